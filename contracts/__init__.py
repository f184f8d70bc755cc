"""Contract documents: PDF rendering and the platform's PAdES seal. Pure; imports domain only."""
