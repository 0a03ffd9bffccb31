//! Compile-time guarantees: mismatched channels and strides do not compile, and say why;
//! the correct models, including ResNet-18 on run-time sizes, do.

#[test]
fn shape_mismatches_are_compile_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/compile_fail/*.rs");
    t.pass("tests/compile_pass/*.rs");
}
