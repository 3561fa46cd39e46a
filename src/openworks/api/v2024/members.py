"""2024-05-18 handlers (members): not written yet; its operations answer InvalidApi.NotFound."""
