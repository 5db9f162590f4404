# Copyright 2026 The nova-v2v Authors
#
#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.

"""One lab per test class; missing prerequisites fail, never skip.

CI runs these tests to prove the migrations work: a test that skipped
because the host lacked a package would prove nothing, so every test of
the class fails with one message listing everything that is missing.
"""

import os
import shutil
import sys

import testtools
from testtools import content

# Executables the lab runs, with the Debian package that provides each
# (bindep.txt, profile "test").
PREREQUISITES = (
    ('/usr/sbin/libvirtd', 'libvirt-daemon libvirt-daemon-driver-qemu'),
    ('/usr/bin/virsh', 'libvirt-clients'),
    ('/usr/bin/qemu-system-x86_64', 'qemu-system-x86'),
    ('/usr/bin/qemu-img', 'qemu-utils'),
    ('/usr/bin/qemu-nbd', 'qemu-utils'),
    ('/usr/bin/qemu-storage-daemon', 'qemu-system-common'),
    ('/bin/busybox', 'busybox-static'),
    ('/sbin/depmod', 'kmod'),
    ('/sbin/modprobe', 'kmod'),
    ('/usr/bin/nsenter', 'util-linux'),
    ('/usr/bin/unshare', 'util-linux'),
    ('/usr/bin/setsid', 'util-linux'),
    ('/sbin/ip', 'iproute2'),
    ('/usr/bin/apt-get', 'apt'),
    ('/usr/bin/dpkg-deb', 'dpkg'),
    ('/sbin/mkfs.ext4', 'e2fsprogs'),
    ('/usr/bin/virt-xml-validate', 'libvirt-clients'),
    # Lab TLS (nova_v2v_rig.lab.tls): the certificates, the TLS evidence.
    ('/usr/bin/openssl', 'openssl'),
    ('/usr/bin/virt-admin', 'libvirt-clients'),
    ('/usr/bin/ss', 'iproute2'),
)


def _eventlet_patched():
    try:
        from nova import monkey_patch
    except ImportError:
        return False
    return monkey_patch.is_patched()


def missing_prerequisites():
    """Human-readable problems that keep the lab from running ([] if ok)."""
    problems = []
    if os.geteuid() != 0:
        problems.append('the lab needs root (network namespaces, libvirt '
                        'daemons); run as root, e.g. sudo tox -e '
                        'integration')
    missing = [(path, pkg) for path, pkg in PREREQUISITES
               if not os.path.exists(path) and
               not shutil.which(os.path.basename(path))]
    if missing:
        problems.append('missing %s; install with: apt-get install %s' % (
            ', '.join(path for path, _pkg in missing),
            ' '.join(sorted({p for _path, pkgs in missing
                             for p in pkgs.split()}))))
    try:
        import libvirt  # noqa
        import libvirt_qemu  # noqa
        import lxml  # noqa
    except ImportError as exc:
        problems.append('cannot import the lab (libvirt-python and lxml '
                        'needed in this virtualenv): %s' % exc)
    if _eventlet_patched():
        problems.append('eventlet monkey patching is active '
                        '(tests/__init__.py); the lab polls libvirt and '
                        'tails serial logs from native threads, so run '
                        'with OS_NOVA_DISABLE_EVENTLET_PATCHING=1')
    return problems


class LabTestCase(testtools.TestCase):
    """Brings a lab (per-host instance stores) up for the class."""

    setup_error = None
    lab = None
    # Keyword arguments of Lab.up for the class's lab.
    lab_options = {}

    @classmethod
    def setUpClass(cls):
        super(LabTestCase, cls).setUpClass()
        cls.setup_error = None
        cls.lab = None
        problems = missing_prerequisites()
        if problems:
            cls.setup_error = ('the lab cannot run here: %s'
                               % '; '.join(problems))
            return
        from nova_v2v_rig.lab import hosts
        state_dir = os.environ.get('NOVA_V2V_LAB_STATE',
                                   hosts.DEFAULT_STATE_DIR)
        lab = hosts.Lab(state_dir)
        if lab.load():
            cls.setup_error = ('a lab is already up at %s; run '
                               '"nova-v2v-lab down" first' % state_dir)
            return
        try:
            lab.up(shared=False, **cls.lab_options)
        except Exception as exc:
            cls.setup_error = 'nova-v2v-lab up failed: %s: %s' % (
                type(exc).__name__, exc)
            return
        cls.lab = lab

    @classmethod
    def tearDownClass(cls):
        if cls.lab is not None:
            cls.lab.down()
            cls.lab = None
        super(LabTestCase, cls).tearDownClass()

    def setUp(self):
        super(LabTestCase, self).setUp()
        self._reruns = []
        self._reruns_failed = False
        if self.setup_error:
            self.fail(self.setup_error)

    def migrate_live(self, mode, **kwargs):
        """nova_v2v_rig.lab.migrate.run of a live mode on this class's lab.

        Runs once more on the known QEMU fault, see :meth:`once_more`.
        """
        from nova_v2v_rig.lab import migrate
        return self.once_more(
            mode, lambda: migrate.run(self.lab, mode, **kwargs))

    def once_more(self, what, migration):
        """Call ``migration()``; again once if QEMU's known fault explains it.

        A guest that crashes on host b after its live state moved fails
        the test, except once: when the source's QEMU is known to lose TCG
        guest writes during a live migration
        (nova_v2v.planning.compat.live_state_caveat) and the guest's
        console shows that fault's crash
        (nova_v2v_rig.lab.console.TCG_FAULT_SIGNATURES), the crash is
        recorded as the test's "guest-crash" detail and on stderr, and
        ``migration()`` runs once more (a new guest); a second crash, any
        other crash or a silent guest fails the test. A test that passes
        after such a second run prints one ``RERUN-PASSED: <test id>:
        <signature>`` line on the process's stderr, which the tests'
        capture does not hold (tools/run-tests.sh counts these lines).
        """
        from nova_v2v_rig.lab import migrate

        def told(exc):
            note = ('%s: the guest crashed on host b (%s, signature %s); '
                    'known QEMU fault: %s; running the migration once more'
                    % (what, exc.crash, exc.signature, exc.known_fault))
            self.addDetail('guest-crash', content.text_content(
                '%s\n%s' % (note, exc)))
            sys.stderr.write('\nWARNING: %s\n' % note)

        return migrate.once_more(migration, told, self._passed_again)

    def _passed_again(self, exc):
        """Say once, if the test passes, that it did so on a second run."""
        if not self._reruns:
            self.addOnException(self._rerun_failed)
            self.addCleanup(self._report_reruns)
        self._reruns.append(exc.signature)

    def _rerun_failed(self, exc_info):
        self._reruns_failed = True

    def _report_reruns(self):
        from nova_v2v_rig.lab import migrate
        if self._reruns_failed or not self._reruns:
            return
        line = migrate.rerun_passed_line(
            self.id(), ','.join(sorted(set(self._reruns))))
        # The process's own stderr: stestr's worker passes it through to
        # the run's output; sys.stderr is the test's capture.
        sys.__stderr__.write('\n%s\n' % line)
        sys.__stderr__.flush()

    def assertGuestMovedIntact(self, result):
        """The guest runs on b and every acknowledged record is there.

        Records written but not acknowledged: as many as the move's mode
        allows (nova_v2v_rig.lab.migrate.unacked_allowed).
        """
        from nova_v2v_rig.lab import migrate
        self.assertTrue(result['dest_running'],
                        'the guest is not running on host b')
        self.assertEqual(0, result['records_lost'], result)
        self.assertGreater(result['records_written'], 0, result)
        self.assertGreaterEqual(result['records_verified'],
                                result['records_written'], result)
        self.assertEqual([], result['serial_gaps'], result)
        self.assertLessEqual(len(result['serial_unacked']),
                             migrate.unacked_allowed(result['mode']), result)
        self.assertEqual([], result['serial_repeats'], result)
        self.assertEqual([], result['source_leftovers'], result)
