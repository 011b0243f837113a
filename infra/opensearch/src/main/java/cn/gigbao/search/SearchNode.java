package cn.gigbao.search;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.opensearch.Version;
import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.transport.Netty4Plugin;

/**
 * One OpenSearch node on loopback: single-node discovery, a free HTTP port (or the one given as
 * the first argument), a fresh temporary home (or the directory given as the second), disk
 * thresholds off. Prints {@code OPENSEARCH_URL=http://127.0.0.1:PORT VERSION=x.y.z} when it
 * answers HTTP, and stops (removing a temporary home) when its standard input closes, so it never
 * outlives the process that started it.
 */
public final class SearchNode {

    /** A node with the HTTP transport and the common analysis plugins on its classpath. */
    private static final class PluginNode extends Node {
        PluginNode(Environment environment) {
            super(environment, List.of(Netty4Plugin.class, CommonAnalysisPlugin.class), true);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static void removeTree(Path root) {
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            System.err.println("could not remove " + root + ": " + e);
        }
    }

    public static void main(String[] args) throws Exception {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : freePort();
        boolean temporary = args.length < 2;
        Path home = temporary ? Files.createTempDirectory("gigbao-opensearch-") : Path.of(args[1]);
        for (String dir : List.of("config", "data", "logs", "modules", "plugins")) {
            Files.createDirectories(home.resolve(dir));
        }
        Settings settings = Settings.builder()
            .put("cluster.name", "gigbao-local")
            .put("node.name", "gigbao-search-0")
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("discovery.type", "single-node")
            .put("network.host", "127.0.0.1")
            .put("http.port", port)
            .put("transport.port", freePort())
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .build();
        Environment environment =
            InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), home.resolve("config"), () -> "gigbao-search-0");
        Node node = new PluginNode(environment);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
            } catch (IOException e) {
                System.err.println("node close: " + e);
            }
            if (temporary) {
                removeTree(home);
            }
        }));
        node.start();
        System.out.println("OPENSEARCH_URL=http://127.0.0.1:" + port + " VERSION=" + Version.CURRENT);
        System.out.flush();
        while (System.in.read() != -1) {
            // Anything written to stdin is ignored; its end stops the node.
        }
        System.exit(0);
    }
}
