package dev.isthmus.engine.testing;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import java.lang.foreign.ValueLayout;

/** Host <-> device copies for the tests of the GPU backends (any backend, in fact). */
public final class DeviceTensors {
    private DeviceTensors() {}

    /** A device copy of a host tensor, owned by the scope. */
    public static Tensor toDevice(TensorScope scope, Backend backend, Tensor host) {
        Tensor d = scope.add(backend.allocate(host.shape(), host.dtype()));
        host.copyTo(d);
        return d;
    }

    public static Tensor deviceZeros(TensorScope scope, Backend backend, Shape shape) {
        return scope.add(backend.allocate(shape, DType.F32));
    }

    public static Tensor deviceBytes(TensorScope scope, Backend backend, long bytes) {
        return scope.add(backend.allocate(Shape.of(Math.toIntExact(bytes)), DType.U8));
    }

    /** The bytes of any tensor (U8 workspaces and masks), copied to the host. */
    public static byte[] bytes(Tensor t) {
        try (Tensor host = Tensor.allocate(t.shape(), t.dtype())) {
            t.copyTo(host);
            return host.segment().toArray(ValueLayout.JAVA_BYTE);
        }
    }
}
