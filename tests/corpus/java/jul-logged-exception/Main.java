import java.util.logging.*;

public class Main {
    private static final Logger LOG = Logger.getLogger("shop.payments");

    static class PaymentException extends Exception {
        PaymentException(String msg, Throwable cause) { super(msg, cause); }
    }

    static long parseAmount(String s) { return Long.parseLong(s); }

    static void charge(String amount) throws PaymentException {
        try {
            parseAmount(amount);
        } catch (NumberFormatException e) {
            throw new PaymentException("invalid amount '" + amount + "'", e);
        }
    }

    public static void main(String[] args) {
        try {
            charge("12,50");
        } catch (PaymentException e) {
            LOG.log(Level.SEVERE, "charge failed, order kept pending", e);
        }
        System.out.println("payments worker idle");
    }
}
