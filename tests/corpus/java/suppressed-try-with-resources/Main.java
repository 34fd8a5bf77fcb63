import java.io.*;

public class Main {
    static class Conn implements AutoCloseable {
        final String name;
        Conn(String name) { this.name = name; }
        void send(String msg) throws IOException {
            throw new IOException("broken pipe while sending " + msg);
        }
        @Override public void close() throws IOException {
            throw new IOException("close of " + name + " failed");
        }
    }

    static void publish(String msg) {
        try (Conn c = new Conn("broker-1")) {
            c.send(msg);
        } catch (IOException e) {
            throw new IllegalStateException("publish failed", e);
        }
    }

    public static void main(String[] args) {
        System.out.println("publishing");
        publish("order-17");
    }
}
