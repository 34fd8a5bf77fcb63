import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

public class Main {
    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"': b.append("\\\""); break;
                case '\\': b.append("\\\\"); break;
                case '\n': b.append("\\n"); break;
                case '\t': b.append("\\t"); break;
                case '\r': b.append("\\r"); break;
                default: b.append(c);
            }
        }
        return b.append('"').toString();
    }

    static void log(Map<String, String> fields) {
        StringBuilder b = new StringBuilder("{");
        for (Map.Entry<String, String> e : fields.entrySet()) {
            if (b.length() > 1) b.append(',');
            b.append(quote(e.getKey())).append(':').append(quote(e.getValue()));
        }
        System.out.println(b.append('}'));
    }

    static class Repository {
        int find(String id) {
            try {
                return Integer.parseInt(id);
            } catch (NumberFormatException e) {
                throw new IllegalStateException("corrupt id in row " + id, e);
            }
        }
    }

    public static void main(String[] args) {
        Repository repo = new Repository();
        try {
            repo.find("x17");
        } catch (RuntimeException e) {
            StringWriter sw = new StringWriter();
            e.printStackTrace(new PrintWriter(sw));
            Map<String, String> f = new LinkedHashMap<>();
            f.put("@timestamp", Instant.now().toString());
            f.put("level", "ERROR");
            f.put("logger_name", "com.acme.Main");
            f.put("thread_name", "main");
            f.put("message", "lookup failed");
            f.put("stack_trace", sw.toString());
            log(f);
        }
        System.out.println("{\"level\":\"INFO\",\"message\":\"continuing\"}");
    }
}
