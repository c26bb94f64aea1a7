"""Answer pickers of the inference world, one per file (role ``picker``)."""
