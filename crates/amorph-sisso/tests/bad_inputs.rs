//! Bad input is a typed error: NaN, infinity, constant columns, missing units, unknown operators,
//! invalid parameters, shapes that do not fit, a feature space over the memory budget.

use amorph_sisso::{Dataset, Error, Op, SissoParams, Unit};
use ndarray::{Array1, Array2, array};

fn names(p: usize) -> Vec<String> {
    (1..=p).map(|j| format!("x{j}")).collect()
}

fn table() -> (Array2<f64>, Array1<f64>) {
    let x = Array2::from_shape_fn((10, 3), |(i, j)| 1.0 + (i * (j + 1)) as f64 % 7.0);
    let y = Array1::from_shape_fn(10, |i| i as f64 * 0.5);
    (x, y)
}

#[test]
fn nan_and_infinity_are_errors_naming_column_and_row() {
    let (mut x, y) = table();
    x[[4, 1]] = f64::NAN;
    match Dataset::new(x, y.clone(), names(3)) {
        Err(Error::NonFinite { column, row }) => assert_eq!((column.as_str(), row), ("x2", 4)),
        other => panic!("{other:?}"),
    }
    let (x, mut y) = table();
    y[7] = f64::INFINITY;
    assert!(
        matches!(Dataset::new(x, y, names(3)), Err(Error::NonFinite { column, row: 7 }) if column == "target")
    );
}

#[test]
fn constant_columns_are_errors() {
    let (mut x, y) = table();
    x.column_mut(2).fill(3.5);
    assert!(matches!(Dataset::new(x, y, names(3)), Err(Error::ConstantColumn(c)) if c == "x3"));
    let (x, _) = table();
    assert!(
        matches!(Dataset::new(x, Array1::zeros(10), names(3)), Err(Error::ConstantColumn(c)) if c == "target")
    );
}

#[test]
fn missing_or_unknown_units_are_errors() {
    let (x, y) = table();
    let d = Dataset::new(x, y, names(3)).unwrap();
    let ev = Unit::parse("eV").unwrap();
    assert!(matches!(
        d.clone().with_units(vec![ev.clone()]),
        Err(Error::MissingUnits(_))
    ));
    match d
        .clone()
        .with_named_units([("x1", ev.clone()), ("x3", ev.clone())])
    {
        Err(Error::MissingUnits(m)) => assert!(m.contains("x2"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        d.with_named_units([("x1", ev.clone()), ("x2", ev.clone()), ("x3", ev.clone()), ("x9", ev)]),
        Err(Error::MissingUnits(m)) if m.contains("x9")
    ));
    assert!(matches!(Unit::parse("ev^^2"), Err(Error::InvalidUnit { .. })));
}

#[test]
fn unknown_operators_are_errors() {
    assert!(matches!(Op::parse_list("+,-,sin"), Err(Error::UnknownOperator(o)) if o == "sin"));
    assert!(matches!(Op::parse("tanh"), Err(Error::UnknownOperator(_))));
}

#[test]
fn invalid_parameters_and_shapes_are_errors() {
    for p in [
        SissoParams::new().desc_dim(0),
        SissoParams::new().subs_sis(0),
        SissoParams::new().n_models(0),
        SissoParams::new().max_complexity(2),
        SissoParams::new().operators([Op::Add]).max_complexity(2).rung(0),
        SissoParams::new().fmax_min(10.0).fmax_max(1.0),
        SissoParams::new().dedup_tol(-1.0),
    ] {
        assert!(matches!(p.check(), Err(Error::InvalidParameter(_))));
    }
    let (x, y) = table();
    assert!(matches!(
        Dataset::new(x.clone(), y.slice(ndarray::s![..9]).to_owned(), names(3)),
        Err(Error::InvalidInput(_))
    ));
    assert!(matches!(
        Dataset::new(x.clone(), y.clone(), names(2)),
        Err(Error::InvalidInput(_))
    ));
    let dup = vec!["a".to_string(), "b".to_string(), "a".to_string()];
    assert!(matches!(Dataset::new(x, y, dup), Err(Error::InvalidInput(_))));
    assert!(matches!(
        Dataset::new(array![[1.0], [2.0]], array![1.0, 2.0], names(1)),
        Err(Error::TooFew(_))
    ));
}

#[test]
fn a_feature_space_over_the_budget_is_an_error_not_an_abort() {
    let x = Array2::from_shape_fn((50, 20), |(i, j)| 1.0 + ((i * 31 + j * 17) % 23) as f64);
    let y = Array1::from_shape_fn(50, |i| i as f64);
    let data = Dataset::new(x, y, names(20)).unwrap();
    let r = SissoParams::new()
        .operators(Op::PAPER)
        .max_complexity(3)
        .memory_budget(1 << 20)
        .check()
        .unwrap()
        .fit(&data);
    assert!(matches!(r, Err(Error::MemoryBudget { .. })), "{r:?}");
    // The Gram matrix of the ℓ0 search is budgeted too.
    let r = SissoParams::new()
        .operators(Op::PAPER)
        .max_complexity(1)
        .subs_sis(5000)
        .memory_budget(8 << 20)
        .check()
        .unwrap()
        .fit(&data);
    match r {
        Err(Error::MemoryBudget { what, .. }) => assert!(what.contains("ℓ0"), "{what}"),
        other => panic!("{other:?}"),
    }
}
