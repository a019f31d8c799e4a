"""Data layer: the district's tables, unified social credit codes, schemas, loaders and quality."""
