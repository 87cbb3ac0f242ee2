"""jointplan: joint contingency planning between partners who keep their freedom of action."""

__version__ = "0.1.0"
