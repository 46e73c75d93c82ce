package dev.isthmus.nn;

import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.dnnl.DnnlBackend;
import dev.isthmus.nn.data.ImageFolder;
import dev.isthmus.nn.data.Shapes;
import org.junit.jupiter.api.Test;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;

class ProbeTest {
    @Test
    void probe() throws Exception {
        Path dir = Path.of("/tmp/probe/shapes");
        if (!java.nio.file.Files.exists(dir)) Shapes.write(dir, 4, 30, 76, 11);
        try (ImageFolder folder = ImageFolder.load(dir, 76, 2); var backend = new DnnlBackend();
             Sequential model = AlexNet.heInit(AlexNetLearningTest.narrowAlexNet(4))) {
            var split = folder.split(0.2, 1);
            float[] mean = folder.mean(split.train());
            float scale = 1f / folder.std(split.train(), mean);
            System.out.println("mean " + java.util.Arrays.toString(mean) + " scale " + scale);
            int batch = 8;
            model.compile(backend, batch, Shape.of(3, 67, 67), Sequential.Mode.TRAIN, 3);
            try (var loader = folder.loader(split.train(), batch, 3, ImageFolder.Transform.train(67, mean, null, scale), true, true);
                 var opt = new Adam(model.parameters(), 1e-3f);
                 var loss = new CrossEntropyLoss().compile(backend, batch, 4);
                 var x = backend.allocate(Shape.of(batch, 3, 67, 67), dev.isthmus.engine.DType.F32);
                 var y = backend.allocate(Shape.of(batch), dev.isthmus.engine.DType.S32)) {
                var b = loader.epoch(0).iterator().next();
                double s = 0, ss = 0; long n = b.images().byteSize() / 4;
                for (long i = 0; i < n; i++) { float v = b.images().getAtIndex(ValueLayout.JAVA_FLOAT, i); s += v; ss += v * v; }
                int[] lab = new int[batch];
                for (int i = 0; i < batch; i++) lab[i] = b.labels().getAtIndex(ValueLayout.JAVA_INT, i);
                System.out.println("batch mean " + s / n + " std " + Math.sqrt(ss / n - s * s / n / n) + " labels " + java.util.Arrays.toString(lab));
                x.copyFromHost(b.images()); y.copyFromHost(b.labels());
                model.train();
                for (int step = 0; step < 60; step++) {
                    Tensor out = model.forward(x);
                    float l = loss.forward(out, y);
                    if (step % 10 == 0) {
                        StringBuilder act = new StringBuilder();
                        for (int k = 0; k < model.layers().size(); k++) {
                            float[] a = model.forwardTo(x, k).toFloatArray();
                            double q = 0; int nz = 0; for (float v : a) { q += v * v; if (v != 0) nz++; }
                            act.append(String.format(" %s:%.3g/%.2f", model.layers().get(k).name(), Math.sqrt(q / a.length), nz / (double) a.length));
                        }
                        System.out.println("step " + step + " loss " + l + act);
                        out = model.forward(x); loss.forward(out, y);
                    }
                    opt.zeroGrad();
                    model.backward(loss.backward());
                    if (step % 20 == 0) {
                        for (Parameter p : model.parameters()) {
                            float[] g = p.grad().toFloatArray(); double q = 0; for (float v : g) q += v * v;
                            System.out.printf("  %s grad %.3g%n", p.name(), Math.sqrt(q));
                        }
                    }
                    opt.step();
                }
            }
        }
    }
}
