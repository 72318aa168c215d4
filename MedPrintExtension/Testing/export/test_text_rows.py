"""The numpy text formatter writes exactly what Python's format would (except that it never writes -0)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from medprint.text_rows import format_rows

FLOATS = arrays(np.float64, st.tuples(st.integers(1, 40), st.just(3)),
                elements=st.floats(-5000, 5000, allow_nan=False, allow_infinity=False))


@settings(max_examples=200, deadline=None)
@given(FLOATS)
def test_fixed_point_rows_match_python(values):
    near_tie = np.abs((np.abs(values) * 1e6) % 1 - 0.5) < 1e-3  # the two may round a tie differently
    values = np.where(near_tie, np.round(values, 6), values)
    got = format_rows('<vertex x="{}" y="{}" z="{}"/>\n', values, 6).decode()
    want = "".join('<vertex x="{:.6f}" y="{:.6f}" z="{:.6f}"/>\n'.format(*row) for row in values)
    assert got == want.replace("-0.000000", "0.000000")


@settings(max_examples=200, deadline=None)
@given(arrays(np.int64, st.tuples(st.integers(1, 40), st.just(3)), elements=st.integers(-10**12, 10**12)))
def test_integer_rows_match_python(values):
    assert format_rows("f {} {} {}\n", values).decode() == "".join("f {} {} {}\n".format(*r) for r in values)


def test_edge_cases():
    assert format_rows("{}|{}\n", np.array([[0.0, -0.0000004], [9.9999996, -1.5]]), 6) == \
        b"0.000000|0.000000\n10.000000|-1.500000\n"
    assert format_rows("{}\n", np.zeros((0, 1))) == b""
