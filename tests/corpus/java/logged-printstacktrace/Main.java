import java.util.*;

public class Main {
    static class Invoice { final int id; Invoice(int id) { this.id = id; } }

    static int total(List<Integer> lines) {
        int sum = 0;
        for (int i = 0; i <= lines.size(); i++) sum += lines.get(i);
        return sum;
    }

    static void bill(Invoice inv) {
        try {
            total(Arrays.asList(10, 20, 30));
        } catch (IndexOutOfBoundsException e) {
            System.err.println("billing: invoice " + inv.id + " skipped");
            e.printStackTrace();
        }
    }

    public static void main(String[] args) {
        bill(new Invoice(7));
        System.out.println("billing run finished");
    }
}
