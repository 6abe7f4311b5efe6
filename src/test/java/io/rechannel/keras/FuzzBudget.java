package io.rechannel.keras;

import net.jqwik.api.lifecycle.AroundPropertyHook;
import net.jqwik.api.lifecycle.PropertyExecutionResult;
import net.jqwik.api.lifecycle.PropertyExecutor;
import net.jqwik.api.lifecycle.PropertyLifecycleContext;

/**
 * How long a fuzz property runs: {@code -Drechannel.fuzz.tries} inputs (default 120), in batches of
 * {@link #BATCH}, one batch per jqwik try, and no new batch after {@code -Drechannel.fuzz.seconds}
 * (default 60); {@code -Drechannel.fuzz.seed} replays a run (jqwik prints the seed of a failing one).
 */
public final class FuzzBudget implements AroundPropertyHook {

    /** Inputs per try, all run in one forked JVM. */
    static final int BATCH = 20;

    private static volatile long deadline = Long.MAX_VALUE;

    @Override
    public PropertyExecutionResult aroundProperty(PropertyLifecycleContext context, PropertyExecutor property) {
        int inputs = Integer.getInteger("rechannel.fuzz.tries", 120);
        context.attributes().setTries(Math.max(1, (inputs + BATCH - 1) / BATCH));
        String seed = System.getProperty("rechannel.fuzz.seed");
        if (seed != null) {
            context.attributes().setSeed(seed);
        }
        deadline = System.nanoTime() + Long.getLong("rechannel.fuzz.seconds", 60) * 1_000_000_000L;
        try {
            return property.execute();
        } finally {
            deadline = Long.MAX_VALUE;
        }
    }

    /** True once the property's time is spent. */
    static boolean spent() {
        return System.nanoTime() > deadline;
    }
}
