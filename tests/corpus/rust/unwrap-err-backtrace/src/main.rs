use std::fs;

struct Config {
    port: u16,
}

fn load(path: &str) -> Config {
    let text = fs::read_to_string(path).unwrap();
    Config { port: text.trim().parse().unwrap_or(8080) }
}

fn main() {
    println!("loading");
    let c = load("/nonexistent/app.conf");
    println!("port {}", c.port);
}
