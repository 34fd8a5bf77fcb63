public class Main {
    static class QueryException extends RuntimeException {
        QueryException(String msg) { super(msg); }
    }

    static void run(String sql) {
        throw new QueryException("ERROR: relation \"orders\" does not exist\n  Position: 15");
    }

    public static void main(String[] args) {
        run("select * from orders");
    }
}
