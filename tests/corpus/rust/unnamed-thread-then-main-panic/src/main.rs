use std::thread;

fn pick(v: &[i32], i: usize) -> i32 {
    v[i]
}

fn main() {
    let h = thread::spawn(|| pick(&[1, 2, 3], 7));
    match h.join() {
        Ok(v) => println!("value {}", v),
        Err(_) => eprintln!("worker failed, retrying inline"),
    }
    let limit: Option<u32> = None;
    println!("limit {}", limit.expect("limit must be configured"));
}
