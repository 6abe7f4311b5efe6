package io.rechannel.keras;

import io.rechannel.core.AdaptOptions;
import io.rechannel.core.ChannelMap;
import io.rechannel.core.OptionName;
import io.rechannel.core.RechannelException;
import io.rechannel.format.AdaptResult;
import io.rechannel.format.InputContract;
import io.rechannel.format.TensorChange;
import io.rechannel.format.Verification;
import io.rechannel.format.VerifyResult;
import io.rechannel.pipeline.Adaptation;
import io.rechannel.pipeline.AdaptationPlan;
import io.rechannel.pipeline.PlanVerifier;
import io.rechannel.pipeline.Planner;

import java.util.ArrayList;
import java.util.List;

/** The adaptation and verification of one Keras model, shared by every Keras file format. */
final class KerasExtension {

    /** Where the user's statistics for new channels can go inside a Keras model. */
    private static final String NORMALISATIONS = "Normalization or BatchNormalization layer";

    /** What was computed: the result to report and the new config text (null when the file has none). */
    record Computed(AdaptResult result, String config) {
    }

    private KerasExtension() {
    }

    /** How to feed the new model when its channels are no longer the ones preprocessing helpers expect. */
    private static List<String> contractNotes(ChannelMap map) {
        if (map.from().equals(map.to())) {
            return List.of();
        }
        return List.of("feed " + String.join(",", map.to().names()) + " in this order and apply the means and stds"
                + " above yourself: do not call a preprocess_input made for the original " + map.from() + " input");
    }

    /** {@code --bake-preprocessing} needs a config to put a layer into and something known to put there. */
    private static void checkBakeable(KerasModelView model, InputContract contract, String source) {
        if (!model.hasConfig()) {
            throw RechannelException.usage(source + ": " + OptionName.BAKE + " puts a layer into the model config, and the file"
                    + " has none (weights only)");
        }
        contract.checkBakeable(source);
    }

    /**
     * Plans and applies the adaptation: variables are replaced through {@code target} (the model's own
     * store, or one that defers the writes), optimizer state is adapted or dropped there, and the config is
     * edited in memory and returned as text.
     */
    static Computed compute(KerasModelView model, KerasWeightStore target, AdaptOptions options, String source,
                            String output) {
        KerasAdaptableModel adaptable = new KerasAdaptableModel(model, source);
        AdaptationPlan plan = Planner.plan(adaptable, options);
        ChannelMap built = options.channelMap(plan.channels(), source);
        // mistakes in the options first, then the caffe-style stop, then a map that would change nothing
        String caffe = options.from() == null && options.map() == null ? CaffeStyle.modelName(model, plan) : null;
        if (caffe != null) {
            throw RechannelException.usage(CaffeStyle.refusal(source, caffe));
        }
        ChannelMap map = AdaptOptions.changing(built, source);
        InputContract original = KerasInputContract.of(model, plan, plan.input(), map.from(), options.norm(), source);
        Adaptation adaptation = new Adaptation(adaptable, plan, map, options)
                .checkStatistics(original.mean() != null, NORMALISATIONS);
        InputContract contract = original.extended(map, contractNotes(map),
                adaptation.statisticsGoInside() ? null : options.stats());
        if (options.bake()) {
            checkBakeable(model, contract, source);
        }
        KerasEdits edits = new KerasEdits(adaptable, target);
        List<TensorChange> tensorChanges = adaptation.apply(edits);
        List<String> notes = new ArrayList<>();
        String config = null;
        List<String> changes = new ArrayList<>();
        if (model.hasConfig()) {
            String shapes = new KerasRecordedShapes(model.graph(), plan.dependency(), plan.channels(), map.newCount(),
                    source).update();
            changes.addAll(adaptation.applyLists(edits));
            changes.add(shapes);
            if (options.bake()) {
                contract = contract.baked(List.of(KerasBake.insert(model, plan, contract,
                        model.store() instanceof KerasV3Store, source)));
                changes.add("preprocessing baked in: " + contract.inside().get(0));
            }
            config = KerasJson.write(model.graph().root());
        } else {
            notes.add("no model config: '" + model.graph().layer(plan.kernels().get(0).node()).name() + "' was taken as"
                    + " the layer reading the input (choose it with " + OptionName.LAYER + ", or give the config with "
                    + OptionName.CONFIG + ")");
        }
        if (options.dropsOptimizer() && model.store().hasOptimizer()) {
            target.dropOptimizer();
            changes.add(AdaptResult.OPTIMIZER_REMOVED);
        }
        return new Computed(AdaptResult.of(source, output, map, tensorChanges, changes, notes).withContract(contract),
                config);
    }

    /**
     * Verifies {@code adapted} against {@code original} as every format is verified, then the preprocessing layer
     * {@code --bake-preprocessing} put in, if any.
     */
    static VerifyResult verify(KerasModelView original, KerasModelView adapted, String originalName, String adaptedName,
                               AdaptOptions options) {
        Verification verification = new Verification(originalName, adaptedName);
        PlanVerifier.Outcome outcome = PlanVerifier.verify(new KerasAdaptableModel(original, originalName),
                new KerasAdaptableModel(adapted, adaptedName), options, verification);
        if (outcome.map() != null) {
            KerasBake.verify(original, outcome.before(), adapted, outcome.after(), outcome.map(), options, originalName,
                    verification);
        }
        return verification.result();
    }
}
