"""The virus-scanning hook: a no-op here, the place where ClamAV plugs in."""

from __future__ import annotations

import pytest

from claims_portal.claims.evidence import (
    EvidenceRejected,
    NoVirusScanner,
    RejectionCode,
    ScanResult,
    VirusScanner,
    VirusScanUnavailable,
    inspect_evidence,
)


class RecordingScanner:
    name = "test-engine"

    def __init__(self, result: ScanResult | None = None, *, down: bool = False) -> None:
        self.result = result or ScanResult(scanner=self.name, scanned=True)
        self.down = down
        self.seen: list[tuple[bytes, str]] = []

    def scan(self, data: bytes, *, filename: str) -> ScanResult:
        self.seen.append((data, filename))
        if self.down:
            raise VirusScanUnavailable("The virus check is not available. Try again later")
        return self.result


def test_the_default_scanner_scans_nothing_and_says_so():
    result = NoVirusScanner().scan(b"anything", filename="a.pdf")
    assert result == ScanResult(scanner="none", scanned=False, infected=False, signature=None)
    assert isinstance(NoVirusScanner(), VirusScanner)


def test_a_clean_verdict_is_kept_with_the_evidence(real_files):
    scanner = RecordingScanner()
    evidence = inspect_evidence(real_files["report.docx"], "dir/report.docx", scanner=scanner)
    assert evidence.scan.scanned
    assert evidence.scan.scanner == "test-engine"
    assert scanner.seen == [(real_files["report.docx"], "report.docx")]


def test_an_infected_file_is_refused(real_files):
    infected = ScanResult(scanner="test-engine", scanned=True, infected=True, signature="Eicar")
    with pytest.raises(EvidenceRejected) as caught:
        inspect_evidence(real_files["scan.pdf"], "scan.pdf", scanner=RecordingScanner(infected))
    assert caught.value.code is RejectionCode.VIRUS
    assert "Eicar" not in caught.value.reason  # engine detail is logged, not shown


def test_a_scanner_that_is_down_stops_the_upload(real_files):
    with pytest.raises(VirusScanUnavailable):
        inspect_evidence(real_files["scan.pdf"], "scan.pdf", scanner=RecordingScanner(down=True))


def test_files_refused_by_the_format_checks_never_reach_the_scanner():
    scanner = RecordingScanner()
    with pytest.raises(EvidenceRejected):
        inspect_evidence(b"<html></html>", "a.pdf", scanner=scanner)
    assert scanner.seen == []
