//! The same request gives the same structure on any number of threads.

use amorph_pack::{PackRequest, pack};

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

#[test]
fn one_and_four_threads_agree_bit_for_bit() {
    // Large enough that the neighbour lists split into several parallel chunks.
    let r = PackRequest::new("Li2Si2O5".parse().unwrap())
        .atoms(4_500)
        .density(2.5)
        .tolerance(2.2)
        .seed(2024);
    let one = in_pool(1, || pack(&r).unwrap());
    let four = in_pool(4, || pack(&r).unwrap());
    assert_eq!(one, four);
}
