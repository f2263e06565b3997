package db

// DisableRuntimeActivity turns the runtime fetch counter off, for the benchmark's baseline.
func DisableRuntimeActivity(s *MappingService) { s.activity = nil }
