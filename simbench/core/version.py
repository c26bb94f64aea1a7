"""The version of simbench, recorded in every manifest."""

__version__ = "0.1.0"
