package dev.isthmus.engine;

import dev.isthmus.engine.dnnl.DnnlBackend;
import dev.isthmus.engine.reference.ReferenceBackend;
import dev.isthmus.engine.simd.SimdBackend;

/**
 * Creates a backend by kind, with an explicit switch: no reflection and no silent fallback.
 * A backend that cannot run here throws at creation, saying why.
 */
public final class Backends {
    private Backends() {}

    public static Backend create(BackendKind kind) {
        return switch (kind) {
            case DNNL -> new DnnlBackend();
            case REFERENCE -> new ReferenceBackend();
            case SIMD -> new SimdBackend();
            case OPENCL -> new dev.isthmus.engine.opencl.OpenClBackend();
            case CUDA -> new dev.isthmus.engine.cuda.CudaBackend();
        };
    }
}
