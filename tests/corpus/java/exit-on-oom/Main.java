import java.util.*;

public class Main {
    static final List<long[]> cache = new ArrayList<>();

    public static void main(String[] args) {
        System.out.println("loading index");
        while (true) cache.add(new long[1 << 20]);
    }
}
