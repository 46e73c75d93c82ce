package dev.isthmus.engine.dnnl;

import static dev.isthmus.bindings.dnnl.dnnl_h.*;

import dev.isthmus.engine.EltwiseKind;
import dev.isthmus.engine.EltwisePlan;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.cpu.CpuEltwisePlan;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Why the backend's eltwise is the cpu package's Vector API kernel: this times oneDNN's eltwise
 * primitives (forward and use-dst-for-backward) against it on LeNet's C1 output and prints both,
 * after checking they agree. Asserts nothing about time.
 */
/** Prints timings, asserts none: excluded from the default run (tag "timing"); see bench/README.md. */
@org.junit.jupiter.api.Tag("timing")
class DnnlEltwiseTimingTest {

    /** oneDNN eltwise over a flat (n) tensor: relu, tanh, logistic; no scaled tanh in oneDNN. */
    static final class OneDnnEltwise extends DnnlOpPlan {
        final int fSrc, fDst, bDiffSrc, bDiffDst, bDst;

        OneDnnEltwise(DnnlBackend backend, EltwiseKind kind, long n) {
            super(backend, "eltwise(" + kind + ", " + n + ")");
            int fwdAlg = switch (kind) {
                case RELU -> dnnl_eltwise_relu_use_dst_for_bwd();
                case TANH -> dnnl_eltwise_tanh_use_dst_for_bwd();
                case SIGMOID -> dnnl_eltwise_logistic_use_dst_for_bwd();
                case SCALED_TANH -> throw new IllegalArgumentException("oneDNN has no scaled tanh");
            };
            Dnnl.MemoryDesc md = own(Dnnl.MemoryDesc.of(new long[] {n}, dnnl_f32(), dnnl_a()));
            MemorySegment engine = engine().handle(), attr = attr().handle();
            Dnnl.PrimitiveDesc fwd = own(Dnnl.PrimitiveDesc.create("dnnl_eltwise_forward_primitive_desc_create", kind,
                    s -> dnnl_eltwise_forward_primitive_desc_create(s, engine, dnnl_forward_training(), fwdAlg,
                            md.handle(), md.handle(), 0f, 0f, attr)));
            Dnnl.PrimitiveDesc bwd = own(Dnnl.PrimitiveDesc.create("dnnl_eltwise_backward_primitive_desc_create", kind,
                    s -> dnnl_eltwise_backward_primitive_desc_create(s, engine, fwdAlg, md.handle(), md.handle(), md.handle(),
                            0f, 0f, fwd.handle(), attr)));
            DnnlCall f = call("forward", fwd);
            fSrc = f.input(DNNL_ARG_SRC(), md);
            fDst = f.output(DNNL_ARG_DST(), md);
            DnnlCall b = call("backward", bwd);
            bDiffSrc = b.output(DNNL_ARG_DIFF_SRC(), md);
            bDiffDst = b.input(DNNL_ARG_DIFF_DST(), md);
            bDst = b.input(DNNL_ARG_DST(), md);
        }

        void forward(Tensor dst, Tensor src) {
            Context c = acquire();
            try {
                c.call(0).set(fSrc, src.segment());
                c.call(0).set(fDst, dst.segment());
                run(c, 0);
            } finally {
                release(c);
            }
        }

        void backward(Tensor diffSrc, Tensor diffDst, Tensor dst) {
            Context c = acquire();
            try {
                c.call(1).set(bDiffSrc, diffSrc.segment());
                c.call(1).set(bDiffDst, diffDst.segment());
                c.call(1).set(bDst, dst.segment());
                run(c, 1);
            } finally {
                release(c);
            }
        }
    }

    @Test
    void compareWithTheVectorApiKernels() {
        int n = 64 * 6 * 28 * 28;   // LeNet C1's output at batch 64
        Random r = new Random(2);
        try (DnnlBackend backend = new DnnlBackend();
             Tensor src = Tensor.of(Naive.random(r, n), n); Tensor diffDst = Tensor.of(Naive.random(r, n), n);
             Tensor dst1 = Tensor.zeros(n); Tensor dst2 = Tensor.zeros(n);
             Tensor diffSrc1 = Tensor.zeros(n); Tensor diffSrc2 = Tensor.zeros(n)) {
            for (EltwiseKind kind : new EltwiseKind[] {EltwiseKind.RELU, EltwiseKind.TANH, EltwiseKind.SIGMOID}) {
                try (OneDnnEltwise dnnl = new OneDnnEltwise(backend, kind, n); EltwisePlan cpu = new CpuEltwisePlan(kind, n)) {
                    double[] best = {Double.MAX_VALUE, Double.MAX_VALUE, Double.MAX_VALUE, Double.MAX_VALUE};
                    for (int batch = 0; batch < 12; batch++) {
                        for (int k = 0; k < 4; k++) {
                            long t0 = System.nanoTime();
                            for (int i = 0; i < 10; i++) {
                                switch (k) {
                                    case 0 -> dnnl.forward(dst1, src);
                                    case 1 -> cpu.forward(dst2, src);
                                    case 2 -> dnnl.backward(diffSrc1, diffDst, dst1);
                                    default -> cpu.backward(diffSrc2, diffDst, dst2);
                                }
                            }
                            if (batch >= 2) best[k] = Math.min(best[k], (System.nanoTime() - t0) / 1e6 / 10);
                        }
                    }
                    Naive.assertClose(kind + " forward", dst2.toFloatArray(), dst1.toFloatArray(), 1e-6);
                    Naive.assertClose(kind + " backward", diffSrc2.toFloatArray(), diffSrc1.toFloatArray(), 1e-5);
                    System.out.printf("[dnnl] eltwise %-7s n=%d  fwd oneDNN %.3f ms, Vector API %.3f ms;  bwd oneDNN %.3f ms, Vector API %.3f ms%n",
                            kind, n, best[0], best[1], best[2], best[3]);
                }
            }
        }
    }
}
