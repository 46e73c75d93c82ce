package dev.isthmus.engine;

import dev.isthmus.engine.dnnl.DnnlBackend;
import dev.isthmus.engine.profile.ProfilingBackend;
import dev.isthmus.engine.reference.ReferenceBackend;
import dev.isthmus.engine.simd.SimdBackend;

/**
 * Creates a backend by kind, with an explicit switch: no reflection and no silent fallback.
 * A backend that cannot run here throws at creation, saying why.
 */
public final class Backends {
    private Backends() {}

    /**
     * A new backend of {@code kind}; with {@code -Disthmus.profile=jfr}, wrapped in a
     * {@link ProfilingBackend} so that a JFR recording sees every plan execution.
     */
    public static Backend create(BackendKind kind) {
        return ProfilingBackend.wrapIfRequested(createUnprofiled(kind));
    }

    private static Backend createUnprofiled(BackendKind kind) {
        return switch (kind) {
            case DNNL -> new DnnlBackend();
            case REFERENCE -> new ReferenceBackend();
            case SIMD -> new SimdBackend();
            case OPENCL -> new dev.isthmus.engine.opencl.OpenClBackend();
            case CUDA -> new dev.isthmus.engine.cuda.CudaBackend();
        };
    }
}
