fn total(items: &[u32]) -> u32 {
    items.iter().sum()
}

fn main() {
    let items = [3, 4, 5];
    println!("checking totals");
    assert_eq!(total(&items), 13, "totals differ for {} items", items.len());
}
