package dev.isthmus.nn;

import dev.isthmus.engine.Shape;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A model's layers as a table for one per-sample input shape, without compiling: name, type,
 * output shape, learnable parameters and forward FLOPs per sample (multiply-adds times two:
 * {@link dev.isthmus.engine.Conv2dSpec#flops} for a convolution, 2 * in * out for a linear
 * layer; activations, pooling and normalisation are not counted), with the totals.
 *
 * <pre>
 *   System.out.print(ModelSummary.of(AlexNet.paper(1000), Shape.of(3, 227, 227)).table());
 * </pre>
 */
public final class ModelSummary {
    /** One layer: its output per sample, its parameter count and forward FLOPs per sample. */
    public record Row(String name, String type, Shape output, long parameters, long flops) {}

    private final Shape input;
    private final List<Row> rows;

    private ModelSummary(Shape input, List<Row> rows) {
        this.input = input;
        this.rows = List.copyOf(rows);
    }

    /** The summary of {@code model} for per-sample inputs of {@code input}; throws naming a layer that cannot take its input. */
    public static ModelSummary of(Sequential model, Shape input) {
        List<Shape> shapes = model.inferShapes(input);
        List<Row> rows = new ArrayList<>();
        Shape in = input;
        for (int i = 0; i < model.layers().size(); i++) {
            Layer layer = model.layers().get(i);
            long params = 0;
            for (Layer.ParameterSlot s : layer.parameterSlots(in)) params += s.shape().elements();
            long flops = switch (layer) {
                case Conv2d c -> c.flops(in);
                case Linear l -> l.flops();
                default -> 0;
            };
            rows.add(new Row(layer.name(), layer.toString(), shapes.get(i), params, flops));
            in = shapes.get(i);
        }
        return new ModelSummary(input, rows);
    }

    public Shape input() { return input; }

    public List<Row> rows() { return rows; }

    /** Learnable scalars in all layers. */
    public long parameters() { return rows.stream().mapToLong(Row::parameters).sum(); }

    /** Forward FLOPs per sample over all layers. */
    public long flops() { return rows.stream().mapToLong(Row::flops).sum(); }

    /** The table as aligned text, one line per layer, the input first and the totals last. */
    public String table() {
        int nameW = "layer".length(), typeW = "type".length(), shapeW = Math.max("output".length(), input.toString().length());
        for (Row r : rows) {
            nameW = Math.max(nameW, r.name().length());
            typeW = Math.max(typeW, r.type().length());
            shapeW = Math.max(shapeW, r.output().toString().length());
        }
        String totalParams = String.format(Locale.ROOT, "%,d", parameters());
        String totalFlops = String.format(Locale.ROOT, "%,d", flops());
        int paramW = Math.max("parameters".length(), totalParams.length());
        int flopW = Math.max("FLOPs".length(), totalFlops.length());
        String format = "%-" + nameW + "s  %-" + typeW + "s  %-" + shapeW + "s  %" + paramW + "s  %" + flopW + "s";
        List<String> lines = new ArrayList<>();
        lines.add(String.format(Locale.ROOT, format, "layer", "type", "output", "parameters", "FLOPs"));
        lines.add(String.format(Locale.ROOT, format, "input", "", input, "", ""));
        for (Row r : rows) {
            lines.add(String.format(Locale.ROOT, format, r.name(), r.type(), r.output(),
                    r.parameters() == 0 ? "" : String.format(Locale.ROOT, "%,d", r.parameters()),
                    r.flops() == 0 ? "" : String.format(Locale.ROOT, "%,d", r.flops())));
        }
        lines.add(String.format(Locale.ROOT, format, "total", "", "", totalParams, totalFlops));
        StringBuilder sb = new StringBuilder();
        for (String line : lines) sb.append(line.stripTrailing()).append('\n');
        sb.append(String.format(Locale.ROOT, "%.2f M parameters, %.3f GFLOPs per sample forward (multiply-adds x 2)%n",
                parameters() / 1e6, flops() / 1e9));
        return sb.toString();
    }

    @Override public String toString() { return table(); }
}
