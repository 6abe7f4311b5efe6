package io.rechannel.keras;

import io.rechannel.core.AdaptOptions;
import io.rechannel.core.ChannelMap;
import io.rechannel.core.OptionName;
import io.rechannel.core.RechannelException;
import io.rechannel.format.AdaptResult;
import io.rechannel.format.InputContract;

import java.util.ArrayList;
import java.util.List;

/** The adaptation of one Keras model, shared by every Keras file format. */
final class KerasExtension {

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
        KerasPlan plan = KerasPlanner.of(model, source).plan(options);
        ChannelMap built = options.channelMap(plan.channels(), source);
        // mistakes in the options first, then the caffe-style stop, then a map that would change nothing
        String caffe = options.from() == null && options.map() == null ? CaffeStyle.modelName(model, plan) : null;
        if (caffe != null) {
            throw RechannelException.usage(CaffeStyle.refusal(source, caffe));
        }
        ChannelMap map = AdaptOptions.changing(built, source);
        if (!options.dropsOptimizer() && model.store() instanceof LegacyH5Store legacy) {
            for (KerasPlan.ViewedWeight mixed : plan.mixed()) {
                if (legacy.optimizerSlots(mixed.weight()).isEmpty() && !legacy.anonymousOptimizerSlots(mixed.weight()).isEmpty()) {
                    throw RechannelException.unsupported(source + ": the optimizer state does not say which variable each"
                            + " slot belongs to, so the slots of '" + mixed.layer().path() + "' cannot be found;"
                            + " " + OptionName.DROP_OPTIMIZER + " removes the optimizer state instead");
                }
            }
        }
        InputContract original = KerasInputContract.of(model, plan, plan.dependency().input(), map.from(), options.norm(),
                source);
        KerasAdapter adapter = new KerasAdapter(plan, map, options, source, original.mean() != null);
        InputContract contract = original.extended(map, contractNotes(map),
                adapter.statsGoInside() ? null : options.stats());
        if (options.bake()) {
            checkBakeable(model, contract, source);
        }
        adapter.adaptWeights(target);
        List<String> notes = new ArrayList<>();
        String config = null;
        List<String> changes = new ArrayList<>();
        if (model.hasConfig()) {
            adapter.adaptConfig();
            if (options.bake()) {
                contract = contract.baked(List.of(KerasBake.insert(model, plan, contract,
                        model.store() instanceof KerasV3Store, source)));
                changes.add("preprocessing baked in: " + contract.inside().get(0));
            }
            config = KerasJson.write(model.graph().root());
        } else {
            notes.add("no model config: '" + plan.mixed().get(0).layer().name() + "' was taken as the layer reading"
                    + " the input (choose it with " + OptionName.LAYER + ", or give the config with " + OptionName.CONFIG + ")");
        }
        changes.addAll(0, adapter.configChanges());
        if (options.dropsOptimizer() && model.store().hasOptimizer()) {
            target.dropOptimizer();
            changes.add(AdaptResult.OPTIMIZER_REMOVED);
        }
        return new Computed(AdaptResult.of(source, output, map, adapter.tensorChanges(), changes, notes)
                .withContract(contract), config);
    }
}
