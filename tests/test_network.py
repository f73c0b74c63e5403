import keras
import pytest

from skphotoz.nn.network import build_joint_network, sigmoid_learning_rate
from skphotoz.nn.spec import ARCHITECTURES


def _dense_units(model):
    return {
        layer.name: layer.units for layer in model.layers if isinstance(layer, keras.layers.Dense)
    }


def _dropout_rates(model):
    return {
        layer.name: layer.rate for layer in model.layers if isinstance(layer, keras.layers.Dropout)
    }


def test_architecture_1_is_the_paper_layout():
    model = build_joint_network(8)
    assert _dense_units(model) == {
        "base_dense_0": 512,
        "class_dense_0": 32,
        "class_dense_1": 32,
        "p_late": 1,
        "redshift": 1,
    }
    assert _dropout_rates(model) == {
        "base_dropout_0": 0.5,
        "class_dropout_0": 0.1,
        "class_dropout_1": 0.1,
    }
    assert model.get_layer("p_late").activation.__name__ == "sigmoid"
    assert model.get_layer("redshift").activation.__name__ == "linear"
    assert model.get_layer("base_dense_0").activation.__name__ == "relu"
    # Concatenate(base output, p): 512 + 1 inputs to the redshift neuron.
    concat = model.get_layer("concatenate")
    assert [t.name for t in concat._inbound_nodes[0].input_tensors][1].startswith("keras_tensor")
    assert tuple(model.get_layer("redshift").kernel.shape) == (513, 1)
    assert set(model.output) == {"p_late", "redshift"}


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (2, {"base_dense_0": 64}),
        (3, {"class_dense_0": 32}),
        (4, {"redshift_dense_0": 16}),
    ],
)
def test_table2_architectures(number, expected):
    units = _dense_units(build_joint_network(8, **ARCHITECTURES[number]))
    for name, width in expected.items():
        assert units[name] == width
    if number == 3:
        assert "class_dense_1" not in units
    if number == 4:
        model = build_joint_network(8, **ARCHITECTURES[4])
        assert tuple(model.get_layer("redshift").kernel.shape) == (17, 1)


def test_redshift_branch_without_class_probability():
    model = build_joint_network(5, feed_class_probability=False)
    assert tuple(model.get_layer("redshift").kernel.shape) == (512, 1)
    with pytest.raises(ValueError):
        model.get_layer("concatenate")


def test_sigmoid_schedule_shape():
    rates = [sigmoid_learning_rate(e, 100, 1e-3, floor_fraction=0.2) for e in range(100)]
    assert rates == sorted(rates, reverse=True)
    assert rates[0] == pytest.approx(1e-3, rel=0.01)
    assert rates[-1] == pytest.approx(2e-4, rel=0.05)
    assert rates[50] == pytest.approx(0.6e-3, rel=1e-6)  # midpoint: halfway down
