package dev.isthmus.engine.opencl;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.testing.DeviceOpsContract;

/** Every op of the opencl backend against the reference backend (see {@link DeviceOpsContract}); skipped without OpenCL. */
class OpenClOpsTest extends DeviceOpsContract {
    @Override protected Backend openDevice() {
        return OpenClTesting.backendOrSkip();
    }
}
