"""The agency's camera policy: one versioned document, enforced, published and scored."""
