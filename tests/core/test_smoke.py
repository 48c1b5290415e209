from tests.factories import SentraFactory, UserFactory


def test_health_reports_database_up_and_the_job_queue(client):
    from core.jobs import enqueue
    from core.jobs.models import JobState

    enqueue("mail.retry_failed", key="health-1")
    failed = enqueue("mail.retry_failed", key="health-2")
    failed.state = JobState.FAILED
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "up", "queue": {
        "reachable": True, "pending": 1, "running": 0, "overdue": 0, "failed": 1}}


def test_health_stays_up_when_the_queue_is_unreachable(client, app, monkeypatch):
    from core.jobs.queue import JobQueue, make_huey

    monkeypatch.setitem(app.extensions, "job_queue", JobQueue(make_huey("redis://127.0.0.1:9/0"), None))
    response = client.get("/health")
    assert response.status_code == 200 and response.json["queue"]["reachable"] is False


def test_staff_home_shows_name_for_logged_in_kasir(client, login_as):
    sentra = SentraFactory()
    kasir = UserFactory(name="Budi Kasir", sentras=[sentra])
    login_as(kasir)
    response = client.get("/staf")
    assert response.status_code == 200
    assert "Budi Kasir" in response.get_data(as_text=True)
