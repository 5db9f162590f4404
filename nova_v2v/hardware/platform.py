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

"""Translation steps of the guest's platform.

Pure. What the source host held of the guest (ids, security labels,
resolved firmware paths) goes; the domain type becomes the destination's
accelerator; the OS and boot are checked; the firmware (BIOS or UEFI,
secure boot, the NVRAM) and the machine type are chosen; a foreign guest
gets the ACPI features and CPU model a KVM guest needs. Each step takes
the :class:`~nova_v2v.hardware.draft.Draft` and records what it changed
in its report.
"""

import posixpath
import re

from lxml import etree

from nova_v2v.hardware import draft as hw_draft
from nova_v2v.hardware import exception
from nova_v2v.hardware import machines
from nova_v2v.hardware import reading
from nova_v2v.hardware import report as hw_report

# Controllers a machine family brings by itself: dropped with the
# addresses when the guest changes platform, libvirt adds the right ones.
PLATFORM_CONTROLLERS = ('pci', 'usb', 'ide', 'sata', 'fdc')
UEFI_LOADER = re.compile(r'(OVMF|edk2|AAVMF|QEMU_EFI)', re.IGNORECASE)


# Interface device names libvirt generates itself (and reserves): a live
# XML's name of that form was the source host's choice.
AUTO_IFNAME = re.compile(r'^(vnet|macvtap|macvlan)\d+$')


def strip_source_host_state(draft, keep_uuid, keep_ifnames=False):
    """What the source host held of the guest goes.

    Its id, security labels, device aliases, block job and backing chain
    state, interface device names, autoport ports, and the firmware paths
    the source resolved.

    :param keep_uuid: keep the ``<uuid>`` (else libvirt makes one)
    :param keep_ifnames: keep the interface device names but those libvirt
        generated on the source (``vnetN``, ``macvtapN``): in Nova's
        destination XML, Nova names the tap of each port
        (``tapXXXXXXXX-XX``) and the destination's virtual switch port
        (os-vif's, created before the guest starts) waits for a device of
        that name
    """
    root = draft.root
    if 'id' in root.attrib:
        del root.attrib['id']
    if not keep_uuid:
        for el in root.findall('./uuid'):
            hw_draft.drop(el)
    for xpath in ('./seclabel', './devices/*/seclabel',
                  './devices/*/source/seclabel', './devices/*/alias',
                  './devices/disk/mirror', './devices/disk/backingStore'):
        for el in root.findall(xpath):
            hw_draft.drop(el)
    for el in root.findall('./devices/interface/target'):
        if not keep_ifnames or AUTO_IFNAME.match(el.get('dev') or ''):
            hw_draft.drop(el)
    for el in root.iter():
        if el.tag == 'source' and 'index' in el.attrib:
            del el.attrib['index']
    for el in root.findall('./devices/graphics'):
        if el.get('autoport') == 'yes' and 'port' in el.attrib:
            del el.attrib['port']
    os_el = root.find('./os')
    if os_el is not None and os_el.get('firmware'):
        # Firmware autoselection: the loader and the variable store
        # template in a live XML are what the source host resolved.
        for el in os_el.findall('./loader'):
            hw_draft.drop(el)
        for el in os_el.findall('./nvram'):
            el.attrib.pop('template', None)


def domain_type(draft):
    """The domain type becomes the target's accelerator.

    A foreign guest's ``<emulator>`` goes: the destination uses its own.
    """
    old = draft.root.get('type')
    if old != draft.target.accelerator:
        draft.root.set('type', draft.target.accelerator)
        draft.rep.add(hw_report.CHANGED, 'domain type', old,
                      draft.target.accelerator)
    draft.rep.target_type = draft.target.accelerator
    if draft.profile.foreign:
        for el in draft.devices.findall('./emulator'):
            draft.rep.add(hw_report.REMOVED, 'emulator', el.text, None,
                          'the destination uses its own QEMU')
            hw_draft.drop(el)


def os_checks(draft):
    """Refuse a guest KVM cannot boot as it is defined.

    :returns: ``(<os>, <os><type>)``
    :raises: UnsupportedGuest for a guest that is not hvm, of another
        architecture, or booted by the source host (bootloader, kernel)
    """
    os_el = draft.root.find('./os')
    os_type = os_el.find('./type') if os_el is not None else None
    if os_type is None and draft.profile.hvm_only:
        # The hypervisor runs fully virtualized guests only: a definition
        # without an OS type is one.
        if os_el is None:
            os_el = etree.Element('os')
            anchor = None
            for tag in ('vcpu', 'currentMemory', 'memory', 'uuid', 'name'):
                anchor = draft.root.find('./%s' % tag)
                if anchor is not None:
                    break
            if anchor is not None:
                anchor.addnext(os_el)
            else:
                draft.root.insert(0, os_el)
        os_type = etree.Element('type')
        os_type.text = 'hvm'
        os_el.insert(0, os_type)
        draft.rep.add(hw_report.ADDED, 'os type', None, 'hvm',
                      'the definition names none; %s guests are fully '
                      'virtualized' % draft.profile.name)
    if os_type is None or (os_type.text or '').strip() != 'hvm':
        found = os_type.text if os_type is not None else None
        if draft.profile.name == 'xen' and found in ('xen', 'linux'):
            raise exception.UnsupportedGuest(
                'the guest is a Xen paravirtual guest (os type %r): it '
                'needs a guest-side conversion (virt-v2v) before it can '
                'run on KVM' % found)
        raise exception.UnsupportedGuest(
            'the guest is not a fully virtualized (hvm) guest: os type %r'
            % found)
    arch = os_type.get('arch') or draft.target.arch
    if arch != draft.target.arch and not (
            arch == 'i686' and draft.target.arch == 'x86_64'):
        raise exception.UnsupportedGuest(
            'the guest is %s, the destination runs %s'
            % (arch, draft.target.arch))
    for tag in ('bootloader', 'bootloader_args'):
        if draft.root.find('./%s' % tag) is not None:
            raise exception.UnsupportedGuest(
                'the guest boots through a host-side bootloader (%s), '
                'which KVM has not' % tag)
    if not draft.profile.keep_kernel_boot:
        for tag in ('kernel', 'initrd'):
            if os_el.find('./%s' % tag) is not None:
                raise exception.UnsupportedGuest(
                    'the guest boots a kernel from the source host\'s '
                    'file system (<%s>)' % tag)
    return os_el, os_type


def firmware(draft, os_el):
    """What the guest boots: ``(uefi, secure boot)``.

    As its definition says, or as the target says where the definition
    names none (libvirt's Hyper-V driver).

    :raises: TranslationError when the target asks BIOS of a UEFI guest
    """
    loader = os_el.find('./loader')
    uefi = os_el.get('firmware') == 'efi' or (
        loader is not None and (loader.get('type') == 'pflash' or
                                UEFI_LOADER.search(loader.text or '')))
    secure = (loader is not None and loader.get('secure') == 'yes') or (
        os_el.find("./firmware/feature[@name='secure-boot']"
                   "[@enabled='yes']") is not None)
    if draft.target.firmware and draft.target.firmware != (
            'uefi' if uefi else 'bios'):
        if uefi:
            raise exception.TranslationError(
                'the definition boots UEFI; firmware %s was asked'
                % draft.target.firmware)
        uefi = draft.target.firmware == 'uefi'
        draft.rep.add(hw_report.NOTE, 'firmware', 'bios', 'uefi',
                      'as asked: the source definition names none')
    elif draft.profile.name == 'hyperv' and not uefi:
        draft.rep.add(hw_report.NOTE, 'firmware', None, 'bios',
                      'libvirt\'s Hyper-V driver does not report the VM '
                      'generation: a Generation 2 VM boots UEFI, say so '
                      '(firmware uefi) or it will not boot',
                      hw_report.WARNING)
    draft.rep.firmware = 'uefi' if uefi else 'bios'
    if secure:
        draft.rep.firmware = 'uefi-secure-boot'
    return uefi, secure


def machine(draft, os_type, uefi):
    """The destination's machine type for the guest.

    The planner's choice, else one of the guest's family the destination
    runs (q35 for a foreign UEFI guest). A guest that changes platform loses
    the controllers and device addresses of its old one.

    :raises: UnsupportedGuest when the destination runs no such machine
    """
    old = os_type.get('machine') or ''
    draft.rep.source_machine = old
    target = draft.target
    if target.machine:
        new = target.machine
    elif not draft.profile.foreign and old:
        new = machines.pick(old, target.machine_types) if (
            target.machine_types) else old
        if new is None:
            raise exception.UnsupportedGuest(
                'the destination runs no machine type of the %s family '
                '(it runs: %s)' % (machines.family(old),
                                   ', '.join(target.machine_types)))
    else:
        fam = machines.Q35 if uefi else machines.family(
            draft.profile.bios_machine)
        if old and not draft.profile.foreign:
            fam = machines.family(old)
        new = machines.pick_family(fam, target.machine_types)
        if new is None:
            raise exception.UnsupportedGuest(
                'the destination runs no %s machine type (it runs: %s)'
                % (fam, ', '.join(target.machine_types)))
    draft.family = machines.family(new)
    old_family = machines.family(old) if old else None
    draft.replatform = draft.profile.foreign or (
        old_family is not None and old_family != draft.family)
    if new != old:
        os_type.set('machine', new)
        reason = ''
        if uefi and draft.profile.foreign:
            reason = 'UEFI guests get q35'
        draft.rep.add(hw_report.CHANGED, 'machine', old or None, new,
                      reason)
    draft.rep.machine = new
    if draft.replatform:
        removed = []
        for ctrl in draft.devices.findall('./controller'):
            if ctrl.get('type') in PLATFORM_CONTROLLERS:
                removed.append('%s %s' % (ctrl.get('type'),
                                          ctrl.get('index', '0')))
                hw_draft.drop(ctrl)
        if removed:
            draft.rep.add(hw_report.REMOVED, 'controllers',
                          ', '.join(removed), None,
                          'the %s machine brings its own' % new)
        for addr in draft.devices.findall('./*/address'):
            hw_draft.drop(addr)


def set_firmware(draft, os_el, uefi, secure):
    """A UEFI guest's firmware and variable store on the destination.

    A foreign guest gets OVMF (firmware autoselection) and a fresh variable
    store in its directory; a KVM guest's NVRAM file moves under the
    instances directory when it is elsewhere.

    :raises: PathEscape for an NVRAM path that would leave it
    """
    nvram = os_el.find('./nvram')
    if not uefi:
        if draft.profile.foreign and nvram is not None:
            # VMware's .nvram keeps its BIOS's settings: SeaBIOS has none.
            draft.rep.add(hw_report.REMOVED, 'nvram',
                          (nvram.text or '').strip() or None, None,
                          'the %s BIOS settings: SeaBIOS keeps none'
                          % draft.profile.name)
            hw_draft.drop(nvram)
        return
    if draft.profile.foreign:
        for el in os_el.findall('./loader'):
            hw_draft.drop(el)
        os_el.set('firmware', 'efi')
        _secure_boot(draft, os_el, secure)
        old = nvram.text if nvram is not None else None
        if nvram is None:
            nvram = hw_draft.sub(os_el, 'nvram')
        for attr in list(nvram.attrib):
            del nvram.attrib[attr]
        if draft.target.instances_path is None:
            hw_draft.drop(nvram)
            new = None
        else:
            new = posixpath.join(draft.target.instances_path,
                                 draft.guest_dir(), 'nvram')
            nvram.text = new
        draft.rep.add(hw_report.CHANGED, 'nvram', old, new,
                      'a %s variable store is not an OVMF one: a fresh '
                      'store is made from OVMF\'s template; the guest '
                      'boots its EFI\\BOOT\\BOOTX64.EFI fallback or its '
                      'boot entries are made anew' % draft.profile.name,
                      hw_report.WARNING)
        return
    if nvram is not None and nvram.text:
        old = nvram.text.strip()
        parts = reading.source_parts(old, 'posix')
        new = old
        if draft.target.instances_path is not None and not reading.inside(
                draft.target.instances_path, old):
            new = posixpath.join(draft.target.instances_path,
                                 draft.guest_dir(), parts[-1])
            nvram.text = new
            draft.rep.add(hw_report.CHANGED, 'nvram', old, new,
                          'moved under the instances directory')
        reading.check_dest_path(draft.target, new, 'nvram')
        draft.rep.extra_files.append(hw_report.ExtraFile('nvram', old,
                                                         new))


def _secure_boot(draft, os_el, secure):
    """A foreign UEFI guest's secure boot, as OVMF's firmware features.

    Secure boot stays on with Microsoft's keys enrolled (what VMware and
    Hyper-V enrol); off, it stays off, and is said so: the destination's
    firmware auto-selection would otherwise be free to pick a build with
    secure boot on and keys enrolled, which an unsigned boot loader does
    not pass.
    """
    fw = os_el.find('./firmware')
    if fw is None:
        fw = etree.Element('firmware')
        os_el.find('./type').addnext(fw)
    if not secure:
        for feat in fw.findall('./feature'):
            if feat.get('name') in ('enrolled-keys', 'secure-boot'):
                hw_draft.drop(feat)
        for name in ('enrolled-keys', 'secure-boot'):
            hw_draft.sub(fw, 'feature', enabled='no', name=name)
        draft.rep.add(hw_report.NOTE, 'firmware', None, 'secure boot off',
                      'as on the source: OVMF without secure boot or '
                      'enrolled keys')
        return
    wanted = {'secure-boot': 'yes', 'enrolled-keys': 'yes'}
    for feat in fw.findall('./feature'):
        if feat.get('name') == 'enrolled-keys':
            wanted['enrolled-keys'] = feat.get('enabled')
        if feat.get('name') in wanted:
            hw_draft.drop(feat)
    for name in ('enrolled-keys', 'secure-boot'):
        hw_draft.sub(fw, 'feature', enabled=wanted[name], name=name)
    draft.rep.add(hw_report.NOTE, 'firmware', 'secure boot',
                  'secure boot (OVMF%s)' % (
                      ', Microsoft keys enrolled'
                      if wanted['enrolled-keys'] == 'yes' else ''),
                  'keys the guest added to its own db and dbx stay in the '
                  'source\'s variable store', hw_report.WARNING)


def features(draft):
    """A foreign guest gets the ACPI and APIC features of a KVM guest.

    And SMM, which OVMF's secure boot needs.
    """
    if not draft.profile.foreign:
        return
    features = draft.root.find('./features')
    if features is None:
        features = etree.Element('features')
        anchor = draft.root.find('./os')
        anchor.addnext(features)
    for name in ('acpi', 'apic'):
        if features.find('./%s' % name) is None:
            hw_draft.sub(features, name)
            draft.rep.add(hw_report.ADDED, 'feature %s' % name,
                          reason='KVM guests power off and route '
                                 'interrupts through it')
    if draft.rep.firmware == 'uefi-secure-boot':
        smm = features.find('./smm')
        if smm is None:
            hw_draft.sub(features, 'smm', state='on')
            draft.rep.add(hw_report.ADDED, 'feature smm',
                          reason='OVMF\'s secure boot runs in SMM')
        elif smm.get('state') != 'on':
            raise exception.TranslationError(
                'the guest boots with secure boot and has SMM off')


def cpu(draft):
    """The CPU a foreign guest, or a host CPU on TCG, gets.

    ``host-model`` on KVM; on TCG the target's CPU model, else QEMU's
    default. A topology is kept.
    """
    cpu = draft.root.find('./cpu')
    mode = cpu.get('mode', 'custom') if cpu is not None else None
    old = mode
    if cpu is not None and mode == 'custom':
        old = 'custom %s' % (cpu.findtext('./model') or '(no model)')
    tcg = draft.target.accelerator == 'qemu'
    if not draft.profile.foreign and not (
            tcg and mode in ('host-model', 'host-passthrough')):
        return
    if draft.profile.foreign and cpu is not None and mode == 'custom' and (
            cpu.find('./model') is None):
        # The ESX and Hyper-V drivers give a topology only: keep it.
        mode = None
    topology = cpu.find('./topology') if cpu is not None else None
    if cpu is None:
        cpu = etree.Element('cpu')
        anchor = draft.root.find('./features')
        if anchor is None:
            anchor = draft.root.find('./os')
        anchor.addnext(cpu)
    for child in list(cpu):
        hw_draft.drop(child)
    for attr in list(cpu.attrib):
        del cpu.attrib[attr]
    if not tcg:
        cpu.set('mode', 'host-model')
        new = 'host-model'
    elif draft.target.cpu_model:
        cpu.set('mode', 'custom')
        cpu.set('match', 'exact')
        cpu.set('check', 'none')
        model = hw_draft.sub(cpu, 'model', fallback='allow')
        model.text = draft.target.cpu_model
        new = 'custom %s' % draft.target.cpu_model
    else:
        new = 'QEMU\'s default model'
    if topology is not None:
        cpu.append(topology)
    elif not len(cpu) and not cpu.attrib:
        hw_draft.drop(cpu)
    if old != new:
        draft.rep.add(hw_report.CHANGED, 'cpu', old, new,
                      'TCG runs no host CPU model' if tcg
                      else 'a CPU model every KVM host runs')
