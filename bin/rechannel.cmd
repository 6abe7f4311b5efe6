@echo off
rem Runs rechannel from a built checkout (mvn package) on Windows, as bin/rechannel does elsewhere: the same
rem jar (its manifest names the class path, target\lib\*.jar), the same small heap, serial collector and quick
rem (C1) compiler. Java is %JAVA_HOME%\bin\java.exe when JAVA_HOME is set, else java on the PATH.
rem
rem A native library that crashes on a damaged file takes the JVM down: the JVM prints no crash report and
rem writes no hs_err file into the working folder (with --debug it prints the report and writes it to %TEMP%),
rem and its run record (what it read, where it staged outputs) is left behind. This script then removes the
rem staging folders the record lists, says in one line (one JSON line with --json) which file was being read,
rem and exits with 4. (bin/rechannel also keeps a class-data archive for a faster start; this script does not.)
rem Paths are only ever expanded inside quotes or outside parenthesised blocks: "Program Files (x86)" is safe.
setlocal DisableDelayedExpansion
set "JAR=%~dp0..\target\rechannel-0.1.0-SNAPSHOT.jar"
if exist "%JAR%" goto :jar_found
echo rechannel: "%JAR%" does not exist; build it first: mvn package -DskipTests 1>&2
exit /b 3
:jar_found
if not defined JAVA_HOME goto :java_on_path
set "JAVA=%JAVA_HOME%\bin\java.exe"
if exist "%JAVA%" goto :java_found
echo rechannel: JAVA_HOME ("%JAVA_HOME%") holds no bin\java.exe 1>&2
exit /b 3
:java_on_path
set "JAVA=java"
where java >nul 2>nul && goto :java_found
echo rechannel: java is not on the PATH; install Java 17 or set JAVA_HOME 1>&2
exit /b 3
:java_found

set "CRASH=-XX:+SuppressFatalErrorMessage"
set "JSON="
for %%A in (%*) do (
  if "%%~A"=="--debug" set "CRASH="
  if "%%~A"=="--json" set "JSON=1"
)
set "RECHANNEL_RUN_RECORD=%TEMP%\rechannel-%RANDOM%%RANDOM%.run"
if exist "%RECHANNEL_RUN_RECORD%" del /f /q "%RECHANNEL_RUN_RECORD%"
"%JAVA%" -XX:+UseSerialGC -Xmx96m -XX:TieredStopAtLevel=1 -XX:-UsePerfData %CRASH% -XX:-CreateCoredumpOnCrash "-XX:ErrorFile=%TEMP%\rechannel_hs_err_pid%%p.log" %RECHANNEL_JAVA_OPTS% -jar "%JAR%" %*
set "STATUS=%ERRORLEVEL%"
if "%STATUS%"=="0" goto :done
if not exist "%RECHANNEL_RUN_RECORD%" goto :done

rem the JVM ended without its shutdown hooks: a crash (or a kill); its record says what it was doing
set "READING="
for /f "usebackq tokens=1,* delims= " %%A in ("%RECHANNEL_RUN_RECORD%") do (
  if "%%A"=="reading" call :reading "%%B"
  if "%%A"=="part" call :staged "%%B"
)
rem a crash in native code ends the JVM with 1 (no report, no dump) or with the Windows exception code
if "%STATUS%"=="1" goto :crashed
if %STATUS% LSS 0 goto :crashed
goto :done

:crashed
if not defined READING set "READING=the model"
set "MESSAGE=the native library crashed while reading %READING%; the file is probably damaged; no output was written"
if defined JSON goto :crashed_json
echo rechannel: %MESSAGE% 1>&2
set "STATUS=4"
goto :done
:crashed_json
set "MESSAGE=%MESSAGE:\=\\%"
echo {"error":"%MESSAGE%","kind":"malformed_file","exitCode":4} 1>&2
set "STATUS=4"

:done
if exist "%RECHANNEL_RUN_RECORD%" del /f /q "%RECHANNEL_RUN_RECORD%"
exit /b %STATUS%

:reading
if defined READING (set "READING=%READING%, %~1") else (set "READING=%~1")
exit /b 0

:staged
rem only rechannel's own staging folders: .rechannel-PID-ID.part
echo %~nx1| findstr /r /b /c:"\.rechannel-[0-9][0-9]*-.*\.part$" >nul && rmdir /s /q "%~1"
exit /b 0
