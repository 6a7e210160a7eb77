__version__ = "0.1.0"

from .hub import from_pretrained
from .registry import create_model
