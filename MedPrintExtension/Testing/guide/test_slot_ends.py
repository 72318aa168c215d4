"""How far a slot is lengthened below its housing so no skin of plate thinner than a wall is left
past its end: the least lengthening that cuts each run of material away or leaves it a wall thick."""

import numpy as np
import pytest

from medprint.guide.slots import _least_clearing


@pytest.mark.parametrize("runs, expected", [
    ([], 0.0),                 # nothing past the end
    ([2.0, 3.5], 0.0),         # thick enough already
    ([0.1, 2.0], 0.15),        # a 0.1 mm skin: cut it (2.0 - 0.15 = 1.85 mm still a wall)
    ([0.3, 1.1], 1.15),        # cutting the 0.3 mm skin would leave 0.75 mm of the other: cut both
    ([0.05, 0.2, 0.9], 0.95),
])
def test_least_clearing(runs, expected):
    e = _least_clearing(np.array(runs), 1.0)
    assert e == pytest.approx(expected)
    left = np.array(runs) - e
    assert np.all((left <= 0) | (left >= 1.0))
