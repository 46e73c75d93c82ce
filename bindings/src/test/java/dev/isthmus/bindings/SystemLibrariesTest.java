// Tests where NativeLibraries looks for the system libraries (the OpenCL ICD loader, the CUDA
// driver) and what it says when it cannot: an explicit path, a file or a folder, wins over the
// soname and is final; a missing or broken one fails naming every place tried, with ldd or with
// what to install. The OpenCL cases that need a real libOpenCL.so.1 skip, saying why, without one.
package dev.isthmus.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SystemLibrariesTest {

    @TempDir
    Path temp;

    static NativeLibraries.NativeLibrary openClOrSkip() {
        Assumptions.assumeTrue(NativeLibraries.openClProblem().isEmpty(), () -> NativeLibraries.openClProblem().orElseThrow());
        return NativeLibraries.openCl();
    }

    @Test
    void openClBySonameNamesTheFileTheLinkerMapped() {
        NativeLibraries.NativeLibrary lib = openClOrSkip();
        if (System.getProperty(NativeLibraries.OPENCL_PROPERTY) == null && System.getenv(NativeLibraries.OPENCL_ENV) == null) {
            assertEquals("the soname libOpenCL.so.1, as the dynamic linker found it", lib.source());
            assertTrue(lib.path().isAbsolute() && lib.path().getFileName().toString().startsWith("libOpenCL.so."), lib.describe());
        }
        assertTrue(lib.lookup().find("clGetPlatformIDs").isPresent(), lib.describe());
    }

    @Test
    void explicitPropertyWinsOverEnvironmentAndSoname() {
        Path file = openClOrSkip().path();
        NativeLibraries.NativeLibrary lib = NativeLibraries.loadSystem(NativeLibraries.OPENCL, file.toString(), "/no/such/libOpenCL.so.1");
        assertEquals("system property isthmus.opencl.library", lib.source());
        assertEquals(file.toAbsolutePath(), lib.path());
        assertTrue(lib.lookup().find("clGetPlatformIDs").isPresent(), lib.describe());
    }

    @Test
    void explicitFolderIsSearchedForTheSoname() throws IOException {
        Path file = openClOrSkip().path();
        Path folder = Files.createDirectories(temp.resolve("opencl"));
        Files.copy(file, folder.resolve("libOpenCL.so.1"));
        NativeLibraries.NativeLibrary lib = NativeLibraries.loadSystem(NativeLibraries.OPENCL, null, folder.toString());
        assertEquals("environment variable ISTHMUS_OPENCL_LIBRARY", lib.source());
        assertEquals(folder.resolve("libOpenCL.so.1").toAbsolutePath(), lib.path());
    }

    @Test
    void missingExplicitCudaPathFailsNamingEveryPlaceAndWhatToInstall() {
        Path missing = temp.resolve("nowhere/libcuda.so.1");
        UnsatisfiedLinkError e = assertThrows(UnsatisfiedLinkError.class,
                () -> NativeLibraries.loadSystem(NativeLibraries.CUDA, missing.toString(), "/from/env"));
        String message = e.getMessage();
        assertTrue(message.startsWith("Cannot load the CUDA driver API (libcuda.so.1). Tried, in order:"), message);
        assertTrue(message.contains("system property isthmus.cuda.library=" + missing + ": " + missing + " does not exist"), message);
        assertTrue(message.contains("environment variable ISTHMUS_CUDA_LIBRARY=/from/env: not tried, the system property wins"), message);
        assertTrue(message.contains("the soname libcuda.so.1: not tried, an explicit path wins"), message);
        assertTrue(message.contains("install the NVIDIA driver"), message);
    }

    @Test
    void absentSonameFailsNamingTheLinkersSearchAndWhatToInstall() {
        NativeLibraries.SystemLibrary nowhere = new NativeLibraries.SystemLibrary("a test library", "libisthmus-absent.so.1",
                "isthmus.absent.library", "ISTHMUS_ABSENT_LIBRARY", "Install nothing: this library does not exist.");
        UnsatisfiedLinkError e = assertThrows(UnsatisfiedLinkError.class, () -> NativeLibraries.loadSystem(nowhere, null, null));
        String message = e.getMessage();
        assertTrue(message.contains("system property isthmus.absent.library: not set"), message);
        assertTrue(message.contains("environment variable ISTHMUS_ABSENT_LIBRARY: not set"), message);
        assertTrue(message.contains("the soname libisthmus-absent.so.1 through the dynamic linker (LD_LIBRARY_PATH="), message);
        assertTrue(message.contains("Install nothing"), message);
    }

    @Test
    void fileThatIsNotALibraryFailsNamingItAndLdd() throws IOException {
        Path folder = Files.createDirectories(temp.resolve("broken"));
        // An ELF file that is not a shared library: the java launcher (dlopen refuses executables).
        Path file = Files.copy(Path.of(ProcessHandle.current().info().command().orElseThrow()), folder.resolve("libOpenCL.so.1"));
        UnsatisfiedLinkError e = assertThrows(UnsatisfiedLinkError.class,
                () -> NativeLibraries.loadSystem(NativeLibraries.OPENCL, null, folder.toString()));
        String message = e.getMessage();
        assertTrue(message.contains("environment variable ISTHMUS_OPENCL_LIBRARY=" + folder), message);
        assertTrue(message.contains("opening " + file), message);
        assertTrue(message.contains("ldd " + file.toAbsolutePath()), message);
    }
}
