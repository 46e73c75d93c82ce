package dev.isthmus.engine.cuda;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.Conv2dSpec;
import dev.isthmus.engine.Window;
import dev.isthmus.engine.testing.DeviceOpsContract;
import java.util.ArrayList;
import java.util.List;

/**
 * Every op of the cuda backend against the reference backend (see {@link DeviceOpsContract});
 * each test skips, with the loader's reason, where no GPU and driver are present.
 */
class CudaOpsTest extends DeviceOpsContract {
    @Override protected Backend openDevice() {
        return CudaTesting.backendOrNull();
    }

    @Override protected void assumeDevice(Backend device) {
        CudaTesting.assumeBackend((CudaBackend) device);
    }

    @Override protected List<Conv2dSpec> convolutions() {
        List<Conv2dSpec> specs = new ArrayList<>(super.convolutions());
        specs.add(new Conv2dSpec(2, 96, 27, 27, 256, Window.square(5, 1, 2), 2, true));   // AlexNet conv2, many tiles
        return specs;
    }
}
