fn parse_port(s: &str) -> u16 {
    match s.parse::<u16>() {
        Ok(p) => p,
        Err(e) => panic!("bad port {:?}: {}", s, e),
    }
}

fn main() {
    println!("port {}", parse_port("8080"));
    println!("port {}", parse_port("80800"));
}
