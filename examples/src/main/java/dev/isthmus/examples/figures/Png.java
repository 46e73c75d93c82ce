package dev.isthmus.examples.figures;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import javax.imageio.ImageIO;

/** Writes PNG files atomically: a temporary file in the same folder, fsync, then a rename over the target. */
public final class Png {

    static {
        // Figures never need a display; without this a JDK might look for one.
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
        ImageIO.setUseCache(false); // encode in memory, no stray files in java.io.tmpdir
    }

    private Png() {}

    /** Encodes {@code image} as PNG into {@code file}; the file is either the old one or the complete new one. */
    public static void write(BufferedImage image, Path file) throws IOException {
        if (image == null) throw new IllegalArgumentException("Png.write: image is null");
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        Files.createDirectories(dir);
        Path tmp = dev.isthmus.nn.io.TempFiles.createBeside(target);   // follows the umask
        boolean moved = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                OutputStream out = Channels.newOutputStream(ch);
                if (!ImageIO.write(image, "png", out)) {
                    throw new IOException("no PNG writer for image type " + image.getType());
                }
                out.flush();
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            moved = true;
        } finally {
            if (!moved) Files.deleteIfExists(tmp);
        }
    }
}
