def test_health(chalice_client):
    response = chalice_client.http.get("/health")
    assert response.status_code == 200
    assert response.json_body == {"status": "ok"}
