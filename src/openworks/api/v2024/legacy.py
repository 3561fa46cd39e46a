"""2024-05-18 handlers (legacy): not written yet; its operations answer InvalidApi.NotFound."""
