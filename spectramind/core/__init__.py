"""What every stage shares: atomic writes, netCDF output, provenance manifests, the job runner."""
