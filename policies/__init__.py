"""Decision policies: data, versioned."""
