// Finds and loads the native libraries of the FFM bindings: oneDNN (libdnnl.so.3) and its OpenMP
// runtime (libgomp.so.1); the OpenCL ICD loader (libOpenCL.so.1); the CUDA driver (libcuda.so.1);
// Open MPI (libmpi.so.40).
//
// Order: an explicit path (system property isthmus.dnnl.library, then environment variable
// ISTHMUS_DNNL_LIBRARY; a file or a folder holding libdnnl.so.3) wins; otherwise the two files
// of the natives jar org.bytedeco:dnnl:linux-x86_64 on the class path are extracted once into
// <cache>/natives/dnnl-<first 16 hex of their sha256>/ and loaded from there. Only the files of
// that jar are used, never JavaCPP. Extraction goes to a temporary folder beside the final one
// and is renamed into place atomically, so JVMs starting at once are safe: the first rename
// wins, the others use its copy. A failure names every place tried and suggests ldd.
//
// OpenCL, CUDA and MPI are system libraries: an explicit path (isthmus.opencl.library /
// ISTHMUS_OPENCL_LIBRARY, isthmus.cuda.library / ISTHMUS_CUDA_LIBRARY, isthmus.mpi.library /
// ISTHMUS_MPI_LIBRARY) wins, else the soname is
// handed to the dynamic linker (LD_LIBRARY_PATH, /etc/ld.so.cache, the default folders). Nothing is
// bundled. An absent library is an UnsatisfiedLinkError from openCl(), cuda() or mpi() that names
// every place tried and what to install; the bindings' header classes (cl_h, cuda_h, mpi_h) load it
// only on their first downcall, so their constants work without it.
package dev.isthmus.bindings;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/** Loads each native library once per JVM; see the file comment for where it looks. */
public final class NativeLibraries {

    /** System property naming libdnnl.so.3 or a folder that holds it. */
    public static final String DNNL_PROPERTY = "isthmus.dnnl.library";
    /** Environment variable naming libdnnl.so.3 or a folder that holds it (after the property). */
    public static final String DNNL_ENV = "ISTHMUS_DNNL_LIBRARY";
    /** System property naming the cache root (else $XDG_CACHE_HOME/isthmus, else ~/.cache/isthmus). */
    public static final String CACHE_PROPERTY = "isthmus.cache.dir";

    public static final String DNNL_FILE = "libdnnl.so.3";
    public static final String GOMP_FILE = "libgomp.so.1";
    /** Where the natives jar keeps its files. */
    public static final String JAR_FOLDER = "org/bytedeco/dnnl/linux-x86_64/";

    /** System property naming libOpenCL.so.1 or a folder that holds it (else the soname). */
    public static final String OPENCL_PROPERTY = "isthmus.opencl.library";
    /** Environment variable naming libOpenCL.so.1 or a folder that holds it (after the property). */
    public static final String OPENCL_ENV = "ISTHMUS_OPENCL_LIBRARY";
    /** The OpenCL ICD loader's soname: it dispatches to the installed drivers (PoCL, a GPU vendor's). */
    public static final String OPENCL_FILE = "libOpenCL.so.1";
    /** System property naming libcuda.so.1 or a folder that holds it (else the soname). */
    public static final String CUDA_PROPERTY = "isthmus.cuda.library";
    /** Environment variable naming libcuda.so.1 or a folder that holds it (after the property). */
    public static final String CUDA_ENV = "ISTHMUS_CUDA_LIBRARY";
    /** The CUDA driver API's soname; it comes with the NVIDIA driver, not with the CUDA toolkit. */
    public static final String CUDA_FILE = "libcuda.so.1";
    /** System property naming libmpi.so.40 (a file or a folder). */
    public static final String MPI_PROPERTY = "isthmus.mpi.library";
    /** Environment variable naming libmpi.so.40 (a file or a folder), after the property. */
    public static final String MPI_ENV = "ISTHMUS_MPI_LIBRARY";
    /** Open MPI 4 and 5's soname (MPICH's is libmpi.so.12, with another ABI: see engine's MpiShim). */
    public static final String MPI_FILE = "libmpi.so.40";

    /**
     * A library the system provides, found by an explicit path or by its soname.
     *
     * @param what     its name for people ("OpenCL")
     * @param soname   what the dynamic linker is asked for
     * @param property the system property naming an explicit file or folder
     * @param env      the environment variable naming one (after the property)
     * @param install  what to install when it is absent
     */
    record SystemLibrary(String what, String soname, String property, String env, String install) {}

    static final SystemLibrary OPENCL = new SystemLibrary("OpenCL", OPENCL_FILE, OPENCL_PROPERTY, OPENCL_ENV,
            "Install the OpenCL ICD loader and at least one driver (ICD): on Debian or Ubuntu, apt-get install"
                    + " ocl-icd-libopencl1 pocl-opencl-icd (PoCL, runs on the CPU) or the GPU vendor's OpenCL driver;"
                    + " clinfo lists what the loader finds.");
    static final SystemLibrary CUDA = new SystemLibrary("the CUDA driver API", CUDA_FILE, CUDA_PROPERTY, CUDA_ENV,
            "libcuda.so.1 is installed by the NVIDIA driver, not by the CUDA toolkit (nvcc): install the NVIDIA driver"
                    + " (Debian: apt-get install nvidia-driver libcuda1 from non-free; or NVIDIA's installer) on a machine"
                    + " with an NVIDIA GPU; in a container, start it with the NVIDIA Container Toolkit (docker run --gpus all)."
                    + " nvidia-smi shows whether the driver works. The toolkit's stubs/libcuda.so only links, it cannot run.");

    static final SystemLibrary MPI = new SystemLibrary("Open MPI", MPI_FILE, MPI_PROPERTY, MPI_ENV,
            "Install Open MPI: on Debian or Ubuntu, apt-get install openmpi-bin libopenmpi-dev (mpirun and libmpi.so.40);"
                    + " mpirun --version shows what is installed.");

    /**
     * A loaded library.
     *
     * @param path   the file it was loaded from
     * @param source how it was found, for people ("system property isthmus.dnnl.library", ...)
     * @param lookup its symbols; the library stays loaded for the life of the JVM
     */
    public record NativeLibrary(Path path, String source, SymbolLookup lookup) {
        /** One line for {@code ./isthmus info}. */
        public String describe() {
            return path + " (" + source + ")";
        }
    }

    private static NativeLibrary dnnl;
    private static NativeLibrary gomp;
    private static UnsatisfiedLinkError dnnlFailure;
    private static final Map<SystemLibrary, NativeLibrary> systemLibraries = new HashMap<>();
    private static final Map<SystemLibrary, UnsatisfiedLinkError> systemFailures = new HashMap<>();

    private NativeLibraries() {}

    /** oneDNN, loaded on the first call; throws {@link UnsatisfiedLinkError} naming every place tried. */
    public static synchronized NativeLibrary dnnl() {
        if (dnnl == null && dnnlFailure == null) {
            try {
                dnnl = loadDnnl(System.getProperty(DNNL_PROPERTY), System.getenv(DNNL_ENV), cacheRoot());
            } catch (UnsatisfiedLinkError e) {
                dnnlFailure = e;
            }
        }
        if (dnnlFailure != null) {
            throw copyOf(dnnlFailure);
        }
        return dnnl;
    }

    /**
     * The OpenMP runtime oneDNN runs on: libgomp.so.1 beside the loaded libdnnl.so.3, else the
     * one the dynamic linker already loaded for it (found by its soname).
     */
    public static synchronized NativeLibrary gomp() {
        if (gomp == null) {
            gomp = loadGomp(dnnl());
        }
        return gomp;
    }

    /**
     * The OpenCL ICD loader (libOpenCL.so.1), loaded on the first call: the path named by
     * isthmus.opencl.library or ISTHMUS_OPENCL_LIBRARY, else the soname. Throws
     * {@link UnsatisfiedLinkError} naming every place tried and what to install.
     */
    public static NativeLibrary openCl() {
        return system(OPENCL);
    }

    /**
     * The CUDA driver API (libcuda.so.1), loaded on the first call: the path named by
     * isthmus.cuda.library or ISTHMUS_CUDA_LIBRARY, else the soname. Throws
     * {@link UnsatisfiedLinkError} naming every place tried and what to install.
     */
    public static NativeLibrary cuda() {
        return system(CUDA);
    }

    /**
     * Open MPI (libmpi.so.40), loaded on the first call: the path named by isthmus.mpi.library
     * or ISTHMUS_MPI_LIBRARY, else the soname. Throws {@link UnsatisfiedLinkError} naming every
     * place tried and what to install.
     */
    public static NativeLibrary mpi() {
        return system(MPI);
    }

    /** Why {@link #mpi()} fails (its message), or empty when it loads: for reports and test assumptions. */
    public static Optional<String> mpiProblem() {
        return problem(MPI);
    }

    /** Why {@link #openCl()} fails (its message), or empty when it loads: for reports and test assumptions. */
    public static Optional<String> openClProblem() {
        return problem(OPENCL);
    }

    /** Why {@link #cuda()} fails (its message), or empty when it loads: for reports and test assumptions. */
    public static Optional<String> cudaProblem() {
        return problem(CUDA);
    }

    private static Optional<String> problem(SystemLibrary which) {
        try {
            system(which);
            return Optional.empty();
        } catch (UnsatisfiedLinkError e) {
            return Optional.of(e.getMessage());
        }
    }

    private static synchronized NativeLibrary system(SystemLibrary which) {
        if (!systemLibraries.containsKey(which) && !systemFailures.containsKey(which)) {
            try {
                systemLibraries.put(which, loadSystem(which, System.getProperty(which.property()), System.getenv(which.env())));
            } catch (UnsatisfiedLinkError e) {
                systemFailures.put(which, e);
            }
        }
        UnsatisfiedLinkError failure = systemFailures.get(which);
        if (failure != null) {
            throw copyOf(failure);
        }
        return systemLibraries.get(which);
    }

    /**
     * Finds and loads a system library given the values of its system property and environment
     * variable (each null when unset): an explicit path wins and is final, else the soname.
     */
    static NativeLibrary loadSystem(SystemLibrary which, String propertyValue, String envValue) {
        List<String> tried = new ArrayList<>();
        String explicit = null;
        String source = null;
        int explicitEntry = -1;
        if (propertyValue != null && !propertyValue.isBlank()) {
            explicit = propertyValue;
            source = "system property " + which.property();
            explicitEntry = tried.size();
            tried.add(source + "=" + propertyValue);
            if (envValue != null && !envValue.isBlank()) {
                tried.add("environment variable " + which.env() + "=" + envValue + ": not tried, the system property wins");
            }
        } else {
            tried.add("system property " + which.property() + ": not set");
            if (envValue != null && !envValue.isBlank()) {
                explicit = envValue;
                source = "environment variable " + which.env();
                explicitEntry = tried.size();
                tried.add(source + "=" + envValue);
            } else {
                tried.add("environment variable " + which.env() + ": not set");
            }
        }
        if (explicit != null) {
            Path given = Path.of(explicit);
            Path file = Files.isDirectory(given) ? given.resolve(which.soname()) : given;
            tried.add("the soname " + which.soname() + ": not tried, an explicit path wins");
            if (!Files.isRegularFile(file)) {
                tried.set(explicitEntry, tried.get(explicitEntry) + ": " + file + " does not exist");
                throw systemFailure(which, tried, null, null);
            }
            try {
                return new NativeLibrary(file.toAbsolutePath(), source, SymbolLookup.libraryLookup(file, Arena.global()));
            } catch (IllegalArgumentException e) {
                tried.add("opening " + file + ": " + e.getMessage());
                throw systemFailure(which, tried, file, e);
            }
        }
        String ldLibraryPath = System.getenv("LD_LIBRARY_PATH");
        try {
            SymbolLookup lookup = SymbolLookup.libraryLookup(which.soname(), Arena.global());
            return new NativeLibrary(mappedPath(which.soname()), "the soname " + which.soname() + ", as the dynamic linker found it",
                    lookup);
        } catch (IllegalArgumentException e) {
            tried.add("the soname " + which.soname() + " through the dynamic linker (LD_LIBRARY_PATH="
                    + (ldLibraryPath == null || ldLibraryPath.isBlank() ? "<unset>" : ldLibraryPath)
                    + ", then /etc/ld.so.cache, then /lib and /usr/lib): " + e.getMessage());
            throw systemFailure(which, tried, null, e);
        }
    }

    /**
     * The file a library loaded by soname was mapped from (/proc/self/maps names the file behind
     * the soname's link: libOpenCL.so.1.0.0, libcuda.so.580.65.06), else the bare soname.
     */
    static Path mappedPath(String soname) {
        String prefix = soname.substring(0, soname.indexOf(".so") + 3) + "."; // "libcuda.so."
        Path maps = Path.of("/proc/self/maps");
        if (Files.isReadable(maps)) {
            try (Stream<String> lines = Files.lines(maps)) {
                var found = lines.filter(l -> l.indexOf('/') >= 0).map(l -> l.substring(l.indexOf('/')))
                        .filter(p -> p.substring(p.lastIndexOf('/') + 1).startsWith(prefix))
                        .findFirst();
                if (found.isPresent()) {
                    return Path.of(found.get());
                }
            } catch (IOException | UncheckedIOException e) {
                // Only the description suffers: fall through to the soname.
            }
        }
        return Path.of(soname);
    }

    private static UnsatisfiedLinkError systemFailure(SystemLibrary which, List<String> tried, Path file, Throwable cause) {
        StringBuilder message = new StringBuilder("Cannot load " + which.what() + " (" + which.soname() + "). Tried, in order:");
        for (String place : tried) {
            message.append("\n  - ").append(place);
        }
        if (file != null) {
            message.append("\nCheck its dependencies with: ldd ").append(file.toAbsolutePath());
        } else {
            message.append("\n").append(which.install()).append("\nOr set ").append(which.property()).append(" (or ")
                    .append(which.env()).append(") to ").append(which.soname()).append(" or its folder.");
        }
        UnsatisfiedLinkError error = new UnsatisfiedLinkError(message.toString());
        error.initCause(cause);
        return error;
    }

    /** The cache root: property isthmus.cache.dir, else $XDG_CACHE_HOME/isthmus, else ~/.cache/isthmus. */
    public static Path cacheRoot() {
        String property = System.getProperty(CACHE_PROPERTY);
        if (property != null && !property.isBlank()) {
            return Path.of(property);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) {
            return Path.of(xdg, "isthmus");
        }
        return Path.of(System.getProperty("user.home"), ".cache", "isthmus");
    }

    /**
     * Finds and loads libdnnl.so.3 given the settings that decide it: the value of the system
     * property and of the environment variable (each null when unset) and the cache root.
     */
    static NativeLibrary loadDnnl(String propertyValue, String envValue, Path cacheRoot) {
        List<String> tried = new ArrayList<>();
        if (propertyValue != null && !propertyValue.isBlank()) {
            String source = "system property " + DNNL_PROPERTY;
            tried.add(source + "=" + propertyValue);
            if (envValue != null && !envValue.isBlank()) {
                tried.add("environment variable " + DNNL_ENV + "=" + envValue + ": not tried, the system property wins");
            }
            return loadExplicit(Path.of(propertyValue), source, tried);
        }
        tried.add("system property " + DNNL_PROPERTY + ": not set");
        if (envValue != null && !envValue.isBlank()) {
            String source = "environment variable " + DNNL_ENV;
            tried.add(source + "=" + envValue);
            return loadExplicit(Path.of(envValue), source, tried);
        }
        tried.add("environment variable " + DNNL_ENV + ": not set");
        String resource = JAR_FOLDER + DNNL_FILE;
        Path folder;
        try {
            folder = extractNatives(cacheRoot);
        } catch (IOException | UncheckedIOException | IllegalStateException e) {
            tried.add("natives jar (class path resource " + resource + ", cache " + cacheRoot + "): " + e.getMessage());
            throw failure(tried, null, e);
        }
        Path file = folder.resolve(DNNL_FILE);
        tried.add("natives jar, extracted to " + folder);
        return open(file, "natives jar, extracted to " + folder, tried);
    }

    /** An explicit path wins and is final: no silent fallback to the jar when it is wrong. */
    private static NativeLibrary loadExplicit(Path given, String source, List<String> tried) {
        Path file = Files.isDirectory(given) ? given.resolve(DNNL_FILE) : given;
        if (!Files.isRegularFile(file)) {
            int last = tried.size() - 1;
            tried.set(last, tried.get(last) + ": " + file + " does not exist");
            tried.add("natives jar: not tried, an explicit path wins");
            throw failure(tried, null, null);
        }
        tried.add("natives jar: not tried, an explicit path wins");
        return open(file, source, tried);
    }

    private static NativeLibrary open(Path file, String source, List<String> tried) {
        limitOpenMpSpinning();
        try {
            SymbolLookup lookup = SymbolLookup.libraryLookup(file, Arena.global());
            return new NativeLibrary(file.toAbsolutePath(), source, lookup);
        } catch (IllegalArgumentException e) {
            tried.add("opening " + file + ": " + e.getMessage());
            throw failure(tried, file, e);
        }
    }

    /** The spin count Isthmus gives libgomp unless the user set GOMP_SPINCOUNT or OMP_WAIT_POLICY. */
    public static final String GOMP_SPINCOUNT_DEFAULT = "10000";

    /**
     * libgomp's threads spin 300,000 iterations at every barrier before they sleep. On a machine
     * whose cores are shared (another process, the JVM's own threads) a spinning thread holds
     * the core its partner needs: LeNet-5 training on 2 cores shared with other builds ran at
     * 284 images/s with the default and 1,477 with 10,000 spins (measured in the same minutes),
     * while on the idle machine 10,000 spins lose nothing (18,240 against 17,900). libgomp reads
     * its environment once, when it is loaded, so this runs before libdnnl (and libgomp) load;
     * a value the user set always wins.
     */
    private static void limitOpenMpSpinning() {
        if (System.getenv("GOMP_SPINCOUNT") != null || System.getenv("OMP_WAIT_POLICY") != null) return;
        Linker linker = Linker.nativeLinker();
        var setenv = linker.defaultLookup().find("setenv");
        if (setenv.isEmpty()) return;
        var handle = linker.downcallHandle(setenv.get(), java.lang.foreign.FunctionDescriptor.of(
                java.lang.foreign.ValueLayout.JAVA_INT, java.lang.foreign.ValueLayout.ADDRESS,
                java.lang.foreign.ValueLayout.ADDRESS, java.lang.foreign.ValueLayout.JAVA_INT));
        try (Arena arena = Arena.ofConfined()) {
            int ignored = (int) handle.invokeExact(arena.allocateFrom("GOMP_SPINCOUNT"),
                    arena.allocateFrom(GOMP_SPINCOUNT_DEFAULT), 0);
        } catch (Throwable t) {
            throw new IllegalStateException("setenv(GOMP_SPINCOUNT) failed", t);
        }
    }

    private static NativeLibrary loadGomp(NativeLibrary dnnl) {
        Path beside = dnnl.path().resolveSibling(GOMP_FILE);
        if (Files.isRegularFile(beside)) {
            try {
                return new NativeLibrary(beside, "beside " + DNNL_FILE, SymbolLookup.libraryLookup(beside, Arena.global()));
            } catch (IllegalArgumentException e) {
                throw new UnsatisfiedLinkError("Cannot load " + GOMP_FILE + " from " + beside + ": " + e.getMessage()
                        + ". Check it with: ldd " + beside);
            }
        }
        try {
            return new NativeLibrary(Path.of(GOMP_FILE), "by soname, as the dynamic linker resolves it for " + dnnl.path(),
                    SymbolLookup.libraryLookup(GOMP_FILE, Arena.global()));
        } catch (IllegalArgumentException e) {
            throw new UnsatisfiedLinkError("Cannot load " + GOMP_FILE + ": tried " + beside + " (does not exist) and the soname "
                    + GOMP_FILE + " (" + e.getMessage() + "). This oneDNN may use another threading runtime; check with: ldd "
                    + dnnl.path());
        }
    }

    /**
     * Extracts libdnnl.so.3 and libgomp.so.1 from the natives jar into
     * {@code <cacheRoot>/natives/dnnl-<hash>/} unless a complete copy is there; returns that folder.
     */
    static Path extractNatives(Path cacheRoot) throws IOException {
        String hash = nativesHash();
        Path natives = cacheRoot.resolve("natives");
        Path folder = natives.resolve("dnnl-" + hash);
        if (isComplete(folder)) {
            return folder;
        }
        Files.createDirectories(natives);
        Path temporary = Files.createTempDirectory(natives, ".dnnl-" + hash + "-");
        try {
            for (String name : List.of(DNNL_FILE, GOMP_FILE)) {
                try (InputStream in = resource(name); OutputStream out = Files.newOutputStream(temporary.resolve(name))) {
                    in.transferTo(out);
                }
            }
            try {
                Files.move(temporary, folder, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("cannot rename " + temporary + " to " + folder + " atomically on this file system", e);
            } catch (FileSystemException e) {
                // Another process renamed its complete copy into place first: use that one.
                if (!isComplete(folder)) {
                    throw new IOException("cannot rename " + temporary + " to " + folder + ": " + e, e);
                }
            }
        } finally {
            deleteTree(temporary);
        }
        if (!isComplete(folder)) {
            throw new IOException(folder + " is incomplete after extraction");
        }
        return folder;
    }

    /** First 16 hex digits of the sha256 of libdnnl.so.3 followed by libgomp.so.1, as in the jar. */
    static String nativesHash() throws IOException {
        MessageDigest sha256;
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        for (String name : List.of(DNNL_FILE, GOMP_FILE)) {
            try (InputStream in = new DigestInputStream(resource(name), sha256)) {
                in.transferTo(OutputStream.nullOutputStream());
            }
        }
        return HexFormat.of().formatHex(sha256.digest()).substring(0, 16);
    }

    private static InputStream resource(String name) throws IOException {
        String path = JAR_FOLDER + name;
        InputStream in = NativeLibraries.class.getClassLoader().getResourceAsStream(path);
        if (in == null) {
            throw new IOException("class path resource " + path
                    + " not found: is org.bytedeco:dnnl:3.13-1.5.14:linux-x86_64 on the class path?");
        }
        return in;
    }

    private static boolean isComplete(Path folder) {
        return Files.isRegularFile(folder.resolve(DNNL_FILE)) && Files.isRegularFile(folder.resolve(GOMP_FILE));
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static UnsatisfiedLinkError failure(List<String> tried, Path file, Throwable cause) {
        StringBuilder message = new StringBuilder("Cannot load oneDNN (" + DNNL_FILE + "). Tried, in order:");
        for (String place : tried) {
            message.append("\n  - ").append(place);
        }
        if (file != null) {
            message.append("\nCheck its dependencies with: ldd ").append(file.toAbsolutePath());
        } else {
            message.append("\nSet ").append(DNNL_PROPERTY).append(" (or ").append(DNNL_ENV)
                    .append(") to libdnnl.so.3 or its folder; check a library's dependencies with: ldd <path>/")
                    .append(DNNL_FILE);
        }
        UnsatisfiedLinkError error = new UnsatisfiedLinkError(message.toString());
        error.initCause(cause);
        return error;
    }

    /** A fresh error per call, so each caller gets its own stack trace with the original cause. */
    private static UnsatisfiedLinkError copyOf(UnsatisfiedLinkError original) {
        UnsatisfiedLinkError error = new UnsatisfiedLinkError(original.getMessage());
        error.initCause(original);
        return error;
    }
}
