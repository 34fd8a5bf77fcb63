import java.util.*;

public class Main {
    static String region(Map<String, String> cfg) {
        return cfg.get("region").toUpperCase();
    }

    public static void main(String[] args) throws Exception {
        Thread t = new Thread(() -> region(new HashMap<>()), "config-loader");
        t.start();
        t.join();
        System.exit(1);
    }
}
