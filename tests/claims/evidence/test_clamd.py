"""ClamAV's daemon behind the scanner interface: a real clamd (tests/claims/evidence/clamav.py)
with a signature for the EICAR test string, over its Unix socket and over TCP."""

from __future__ import annotations

import pytest

from claims_portal.access.sealing import new_key
from claims_portal.claims.evidence import (
    ClamdScanner,
    EvidenceInfected,
    NoVirusScanner,
    RejectionCode,
    ScanResult,
    VirusScanner,
    VirusScanUnavailable,
    inspect_evidence,
    scanner_from_config,
)
from claims_portal.claims.evidence.scanning import UNAVAILABLE_MESSAGE
from claims_portal.config import ConfigurationError, load_config
from tests.claims.evidence.clamav import EICAR, FOUND, infected_pdf


def test_clamd_answers_ping_and_is_a_virus_scanner(clamd):
    scanner = clamd.scanner()
    assert isinstance(scanner, VirusScanner)
    assert scanner.ping()
    assert clamd.tcp_scanner().ping()


@pytest.mark.parametrize("over", ["socket", "tcp"])
def test_a_clean_file_is_scanned_and_clean(clamd, real_files, over):
    scanner = clamd.scanner() if over == "socket" else clamd.tcp_scanner()
    result = scanner.scan(real_files["report.docx"], filename="report.docx")
    assert result == ScanResult(scanner="clamav", scanned=True, infected=False, signature=None)


@pytest.mark.parametrize("over", ["socket", "tcp"])
def test_the_eicar_string_is_found_with_its_signature(clamd, over):
    scanner = clamd.scanner() if over == "socket" else clamd.tcp_scanner()
    result = scanner.scan(b"before " + EICAR + b" after", filename="x.pdf")
    assert result == ScanResult(scanner="clamav", scanned=True, infected=True, signature=FOUND)


def test_a_file_larger_than_one_chunk_is_streamed_whole(clamd):
    data = b"%PDF-1.7\n" + b"0" * (3 * ClamdScanner.CHUNK_SIZE + 17) + EICAR
    assert clamd.scanner().scan(data, filename="big.pdf").infected


def test_an_infected_pdf_passes_the_format_checks_then_is_refused_holding_the_file(clamd):
    data = infected_pdf()
    assert inspect_evidence(data, "scan.pdf", scanner=NoVirusScanner()).scan.scanned is False
    with pytest.raises(EvidenceInfected) as refused:
        inspect_evidence(data, "scan.pdf", scanner=clamd.scanner())
    assert refused.value.code is RejectionCode.VIRUS
    kept = refused.value.evidence
    assert kept.data == data
    assert kept.filename == "scan.pdf"
    assert kept.scan.signature == FOUND


def test_clamd_down_is_unavailable_never_clean(tmp_path):
    scanner = ClamdScanner(socket_path=str(tmp_path / "nobody-listens.sock"), timeout=2)
    assert not scanner.ping()
    with pytest.raises(VirusScanUnavailable) as down:
        scanner.scan(b"anything", filename="a.pdf")
    assert str(down.value) == UNAVAILABLE_MESSAGE
    assert "Try again later" in UNAVAILABLE_MESSAGE


def test_a_clamd_error_reply_is_unavailable(clamd, monkeypatch):
    scanner = clamd.scanner()
    monkeypatch.setattr(scanner, "_exchange", lambda *_a: "INSTREAM size limit exceeded. ERROR")
    with pytest.raises(VirusScanUnavailable):
        scanner.scan(b"x", filename="a.pdf")


def test_the_scanner_is_chosen_by_configuration(clamd):
    assert isinstance(scanner_from_config({"VIRUS_SCANNER": "none"}), NoVirusScanner)
    by_socket = scanner_from_config(
        {"VIRUS_SCANNER": "clamd", "CLAMD_SOCKET": clamd.socket_path, "CLAMD_TIMEOUT_SECONDS": 5}
    )
    assert isinstance(by_socket, ClamdScanner)
    assert (by_socket.host, by_socket.socket_path, by_socket.timeout) == (
        None,
        clamd.socket_path,
        5,
    )
    assert by_socket.ping()
    by_tcp = scanner_from_config(
        {"VIRUS_SCANNER": "clamd", "CLAMD_HOST": "127.0.0.1", "CLAMD_PORT": clamd.port}
    )
    assert isinstance(by_tcp, ClamdScanner)
    assert by_tcp.ping()
    with pytest.raises(ValueError, match="VIRUS_SCANNER"):
        scanner_from_config({"VIRUS_SCANNER": "sophos"})


def test_production_requires_a_real_scanner(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@127.0.0.1/db")
    monkeypatch.setenv("MFA_SECRET_KEYS", new_key())
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://claims.example.nhs.uk")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    assert load_config(str(tmp_path), "production")["VIRUS_SCANNER"] == "clamd"
    assert load_config(str(tmp_path), "test")["VIRUS_SCANNER"] == "none"
    monkeypatch.setenv("VIRUS_SCANNER", "none")
    with pytest.raises(ConfigurationError, match="VIRUS_SCAN_REQUIRED"):
        load_config(str(tmp_path), "production")
    monkeypatch.setenv("VIRUS_SCANNER", "clamav-please")
    with pytest.raises(ConfigurationError, match="VIRUS_SCANNER must be one of none, clamd"):
        load_config(str(tmp_path), "test")
    monkeypatch.setenv("VIRUS_SCANNER", "CLAMD")
    monkeypatch.setenv("CLAMD_TIMEOUT_SECONDS", "0")
    with pytest.raises(ConfigurationError, match="CLAMD_TIMEOUT_SECONDS must be more than 0"):
        load_config(str(tmp_path), "test")
    monkeypatch.setenv("CLAMD_TIMEOUT_SECONDS", "12")
    monkeypatch.setenv("CLAMD_HOST", "127.0.0.1")
    settings = load_config(str(tmp_path), "test")
    assert (settings["VIRUS_SCANNER"], settings["CLAMD_TIMEOUT_SECONDS"]) == ("clamd", 12)
    assert scanner_from_config(settings).host == "127.0.0.1"
