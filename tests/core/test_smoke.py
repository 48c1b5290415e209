from tests.factories import SentraFactory, UserFactory


def test_health_reports_database_up(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "up"}


def test_staff_home_shows_name_for_logged_in_kasir(client, login_as):
    sentra = SentraFactory()
    kasir = UserFactory(name="Budi Kasir", sentras=[sentra])
    login_as(kasir)
    response = client.get("/staf")
    assert response.status_code == 200
    assert "Budi Kasir" in response.get_data(as_text=True)
