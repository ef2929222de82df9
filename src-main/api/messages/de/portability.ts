/**
 * German for the core's messages first met under src-main/core/portability and clone
 * (messages.test.ts says which area a message belongs to). Keys: the English id, word for word;
 * values: the German, with the same {n} placeholders, in whatever order German wants them.
 */
import type { Catalogue } from '../localise.js';

const de: Catalogue = {
  'A machine named "{0}" already exists': 'Eine Maschine namens „{0}“ gibt es schon',
  'The folder {0} already exists; remove it or choose another name':
    'Der Ordner {0} existiert schon; ihn entfernen oder einen anderen Namen wählen',
  '{0} already exists': '{0} existiert schon',
  'An encrypted disk is copied only with its passphrase': 'Eine verschlüsselte Platte wird nur mit ihrer Passphrase kopiert',
  'A linked clone rests on a snapshot: name one': 'Ein verknüpfter Klon baut auf einem Sicherungspunkt auf: einen angeben',
  '{0} is running: its disks change while they are copied. Stop it, or clone one of its snapshots (--snapshot NAME), or make a linked clone (which takes a snapshot)':
    '{0} läuft: Die Platten ändern sich, während sie kopiert werden. Die Maschine stoppen, einen ihrer Sicherungspunkte klonen (--snapshot NAME) oder einen verknüpften Klon erstellen (dafür wird ein Sicherungspunkt erstellt)',
  'Not enough free space for a full clone of {0}: it needs up to {1} and {2} has {3} free. Free some space, or make a linked clone.':
    'Nicht genug freier Speicherplatz für einen vollständigen Klon von {0}: Der Klon braucht bis zu {1}, und in {2} sind {3} frei. Speicherplatz freigeben oder einen verknüpften Klon erstellen.',
  'No image for {0}': 'Kein Abbild für {0}',
  'Copying {0}': '{0} wird kopiert',
  'A machine named "{0}" was just created by another process': 'Eine Maschine namens „{0}“ wurde gerade von einem anderen Prozess erstellt',
  Cloned: 'Geklont',
  'Clone {0} as {1}': '{0} als {1} klonen',
  'Taking a snapshot of {0}': 'Sicherungspunkt von {0} wird erstellt',
  'A linked clone rests on a snapshot of {0}: name one': 'Ein verknüpfter Klon baut auf einem Sicherungspunkt von {0} auf: einen angeben',
  '{0} is {1}: shut it down before moving it': '{0} ist nicht ausgeschaltet ({1}): vor dem Verschieben herunterfahren',
  'Move {0}': '{0} verschieben',
  'No space left on the target filesystem while copying {0}': 'Kein Platz mehr auf dem Ziel-Dateisystem beim Kopieren von {0}',
  'Cannot copy {0}: {1}': '{0} kann nicht kopiert werden: {1}',
  '{0} is running: shut it down before moving it': '{0} läuft: vor dem Verschieben herunterfahren',
  'The folder {0} does not exist': 'Der Ordner {0} existiert nicht',
  '{0} is not a folder': '{0} ist kein Ordner',
  'Cannot move {0} into its own folder {1} (or a folder inside it)':
    '{0} kann nicht in den eigenen Ordner {1} (oder einen Ordner darin) verschoben werden',
  '{0} is {1}: choose a folder of your own for {2}': '{0} ist ungeeignet ({1}): einen eigenen Ordner für {2} wählen',
  '{0} is already in {1}': '{0} liegt schon in {1}',
  '{0} is inside the folder of {1}: choose another folder': '{0} liegt im Ordner von {1}: einen anderen Ordner wählen',
  '{0} already exists: choose another folder': '{0} existiert schon: einen anderen Ordner wählen',
  'Not enough free space to move {0}: it takes {1} and {2} has {3} free':
    'Nicht genug freier Speicherplatz, um {0} zu verschieben: Die Maschine belegt {1}, und in {2} sind {3} frei',
  Verifying: 'Wird überprüft',
  'The copy of {0} has {1} bytes instead of {2}: the move was abandoned':
    'Die Kopie von {0} hat {1} Byte statt {2}: Das Verschieben wurde abgebrochen',
  'Removing the old copy': 'Die alte Kopie wird entfernt',
  Moved: 'Verschoben',
  '{0} is in use (mounted at {1}): unmount it first': '{0} wird verwendet (eingehängt unter {1}): zuerst aushängen',
  '{0} is in use by {1} (LVM, RAID or encryption): release it first':
    '{0} wird von {1} verwendet (LVM, RAID oder Verschlüsselung): zuerst freigeben',
  'The export file must end in .ova: {0}': 'Die Exportdatei muss auf .ova enden: {0}',
  'The CD-ROM image {0} is not part of the export': 'Das CD-ROM-Abbild {0} wird nicht mit exportiert',
  '{0} has no disk to export': '{0} hat keine Platte zum Exportieren',
  'Converting {0} to vmdk': '{0} wird nach vmdk umgewandelt',
  'The machine boots a kernel directly: the kernel and initrd travel in the OVA, but only VMDesk boots them (VirtualBox imports the disks)':
    'Die Maschine bootet einen Kernel direkt: Kernel und Initrd kommen mit in die OVA, doch nur VMDesk bootet sie (VirtualBox importiert die Platten)',
  'Computing digests': 'Prüfsummen werden berechnet',
  'Writing {0}': '{0} wird geschrieben',
  '{0} was created by someone else during the export': '{0} wurde während des Exports von jemand anderem erstellt',
  Exported: 'Exportiert',
  '{0} has an unsupported format ({1}): refused': '{0} hat ein nicht unterstütztes Format ({1}): abgelehnt',
  '{0} is not a {1} image (it is {2}): refused': '{0} ist kein {1}-Abbild (sondern {2}): abgelehnt',
  '{0} is not a sparse or streamOptimized vmdk (a descriptor refers to other files): refused':
    '{0} ist kein vmdk-Abbild vom Typ sparse oder streamOptimized (ein Deskriptor verweist auf andere Dateien): abgelehnt',
  '{0} refers to a backing file ({1}): refused': '{0} verweist auf eine Basisdatei ({1}): abgelehnt',
  '{0} refers to other files: refused': '{0} verweist auf andere Dateien: abgelehnt',
  '{0} is not a readable {1} image: {2}': '{0} ist kein lesbares {1}-Abbild: {2}',
  '{0} keeps its data in an external file: refused': 'Die Daten von {0} liegen in einer externen Datei: abgelehnt',
  '{0} is a {1} vmdk that refers to other files: refused':
    '{0} ist ein vmdk-Abbild vom Typ {1}, das auf andere Dateien verweist: abgelehnt',
  '{0} holds {1} bytes but the descriptor declares {2}: the image lies about its size, refused':
    '{0} enthält {1} Byte, der Deskriptor gibt aber {2} an: Das Abbild macht falsche Angaben zu seiner Größe; abgelehnt',
  '{0} is named {1} but is not {2}': '{0} endet auf {1}, ist aber nicht {2}',
  '{0} is not an OVA: its first file must be the .ovf descriptor': '{0} ist keine OVA: Die erste Datei muss der .ovf-Deskriptor sein',
  'The appliance is signed; VMDesk checks its manifest but not its certificate':
    'Die Appliance ist signiert; VMDesk prüft ihr Manifest, aber nicht ihr Zertifikat',
  '{0} is too large for an OVF descriptor': '{0} ist zu groß für einen OVF-Deskriptor',
  "The appliance's file {0} is missing beside {1}": 'Die Datei {0} der Appliance fehlt neben {1}',
  "The appliance's file {0} is not a regular file (links are refused)":
    'Die Datei {0} der Appliance ist keine reguläre Datei (Links werden abgelehnt)',
  '{0} does not contain {1}, which its descriptor refers to': '{0} enthält {1} nicht, obwohl der Deskriptor darauf verweist',
  '{0} is {1} bytes but the descriptor says {2}: the appliance is damaged or truncated':
    '{0} ist {1} Byte groß, laut Deskriptor aber {2}: Die Appliance ist beschädigt oder abgeschnitten',
  'The appliance has no manifest: its files could not be checked against digests':
    'Die Appliance hat kein Manifest: Die Dateien konnten nicht anhand von Prüfsummen geprüft werden',
  'The manifest {0} does not cover {1}: refused': 'Das Manifest {0} erfasst {1} nicht: abgelehnt',
  '{0} does not match its {1} digest in {2}: the appliance is damaged or was altered':
    'Die {1}-Prüfsumme von {0} in {2} stimmt nicht: Die Appliance ist beschädigt oder wurde verändert',
  '{0} is truncated': '{0} ist abgeschnitten',
  'Disk {0} has an impossible capacity': 'Die Platte {0} hat eine unmögliche Größe',
  'The appliance asks for {0} MiB of memory, more than this host has: it gets {1} MiB':
    'Die Appliance verlangt {0} MiB Arbeitsspeicher, mehr als dieser Host hat: Die Maschine erhält {1} MiB',
  'Converting disk {0} of {1}': 'Platte {0} von {1} wird umgewandelt',
  'Import {0}': '{0} importieren',
  'P2V {0} to {1}': 'P2V {0} nach {1}',
  '{0} is {1}: stop it before {2} it': '{0} ist nicht ausgeschaltet ({1}): vor dem Vorgang „{2}“ stoppen',
  'Export {0}': '{0} exportieren',
  'V2P {0} to {1}': 'V2P {0} nach {1}',
  '{0} holds an unsafe file name "{1}" (path traversal or sub-folder): refused':
    '{0} enthält einen unsicheren Dateinamen „{1}“ (Pfadüberschreitung oder Unterordner): abgelehnt',
  '{0} is truncated: it ends inside a tar header at byte {1}':
    '{0} ist abgeschnitten: Die Datei endet bei Byte {1} mitten in einem tar-Header',
  '{0} is not a valid tar (OVA) archive: bad header at byte {1}':
    '{0} ist kein gültiges tar-Archiv (OVA): fehlerhafter Header bei Byte {1}',
  '{0}: invalid entry size at byte {1}': '{0}: ungültige Eintragsgröße bei Byte {1}',
  '{0}: invalid entry size': '{0}: ungültige Eintragsgröße',
  '{0} is truncated: an entry needs {1} bytes at byte {2} but the file ends at {3}':
    '{0} ist abgeschnitten: Ein Eintrag braucht {1} Byte ab Byte {2}, doch die Datei endet bei {3}',
  '{0}: oversized tar extension header': '{0}: übergroßer tar-Erweiterungsheader',
  '{0} holds a {1} link "{2}": refused': '{0} enthält einen Link „{2}“ ({1}): abgelehnt',
  '{0} holds "{1}", which is not a regular file (tar type {2}): refused':
    '{0} enthält „{1}“, keine reguläre Datei (tar-Typ {2}): abgelehnt',
  '{0} holds "{1}" twice: refused': '{0} enthält „{1}“ zweimal: abgelehnt',
  'Unexpected end of file at byte {0}': 'Unerwartetes Dateiende bei Byte {0}',
  '{0} is too large ({1} bytes)': '{0} ist zu groß ({1} Byte)',
  'Tar entry name too long or not flat: {0}': 'Name des tar-Eintrags zu lang oder mit Unterordner: {0}',
  '{0} shrank while it was being archived': '{0} ist beim Archivieren geschrumpft',
  '{0}: unreadable manifest line "{1}"': '{0}: unlesbare Manifestzeile „{1}“',
  'Invalid OVF descriptor: {0}': 'Ungültiger OVF-Deskriptor: {0}',
  'The OVF file {0} is compressed ({1}), which VMDesk does not support':
    'Die OVF-Datei {0} ist komprimiert ({1}); das unterstützt VMDesk nicht',
  'The OVF file {0} is split in chunks, which VMDesk does not support':
    'Die OVF-Datei {0} ist in Stücke geteilt; das unterstützt VMDesk nicht',
  'Disk {0} has an unsupported format "{1}"': 'Die Platte {0} hat ein nicht unterstütztes Format „{1}“',
  'This appliance holds several machines (a VirtualSystemCollection), which VMDesk does not import':
    'Diese Appliance enthält mehrere Maschinen (eine VirtualSystemCollection); solche importiert VMDesk nicht',
  'This appliance holds {0} machines: VMDesk imports one at a time':
    'Diese Appliance enthält {0} Maschinen: VMDesk importiert nur eine auf einmal',
  'The appliance gives no memory size: 512 MiB': 'Die Appliance gibt keine Speichergröße an: 512 MiB',
  'The appliance asks for {0} CPUs; VMDesk allows at most {1}': 'Die Appliance verlangt {0} CPUs; VMDesk erlaubt höchstens {1}',
  'The memory size has no unit: read as MiB': 'Die Speichergröße hat keine Einheit: als MiB gelesen',
  'The appliance asks for {0} MiB of memory, outside {1}..{2} MiB':
    'Die Appliance verlangt {0} MiB Arbeitsspeicher, außerhalb von {1}..{2} MiB',
  'Network adapter {0} dropped: VMDesk has at most 4': 'Netzwerkadapter {0} weggelassen: Eine VMDesk-Maschine hat höchstens 4',
  'Network adapter {0} was on "{1}"; it is on NAT now': 'Netzwerkadapter {0} war mit „{1}“ verbunden; jetzt nutzt er NAT',
  'The appliance has more than 8 disks, the most a VMDesk machine can have':
    'Die Appliance hat mehr als 8 Platten, die Höchstzahl für eine VMDesk-Maschine',
  '{0} is not a disk VMDesk can read': '{0} ist keine Platte, die VMDesk lesen kann',
  '{0} is a {1} image, not a raw disk image: use vmdesk import for it':
    '{0} ist ein {1}-Abbild, kein Raw-Plattenabbild: dafür vmdesk import verwenden',
  '{0} is {1} bytes, not a whole number of 512-byte sectors: not a disk':
    '{0} ist {1} Byte groß, keine ganze Zahl von 512-Byte-Sektoren: keine Platte',
  'The disk boots with UEFI, but UEFI firmware (OVMF) is not installed: the machine gets BIOS (sudo apt-get install ovmf)':
    'Die Platte bootet mit UEFI, aber keine UEFI-Firmware (OVMF) ist installiert: Die Maschine erhält BIOS (sudo apt-get install ovmf)',
  '{0} has no disk {1}': '{0} hat keine Platte {1}',
  '{0} has no disk': '{0} hat keine Platte',
  'Writing to {0} destroys everything on it: confirm with --yes-overwrite-device (confirmDevice)':
    'Schreiben auf {0} zerstört alles darauf: mit --yes-overwrite-device (confirmDevice) bestätigen',
  '{0} is not a block device': '{0} ist kein Blockgerät',
  '{0} holds {1} bytes, less than the {2} bytes of {3}: refused': '{0} fasst {1} Byte, weniger als die {2} Byte von {3}: abgelehnt',
  'Writing {0} to {1}': '{0} wird auf {1} geschrieben',
  '{0} already exists (V2P writes a new image file, or a block device)':
    '{0} existiert schon (V2P schreibt eine neue Abbilddatei oder auf ein Blockgerät)',
  '{0} was created by someone else meanwhile': '{0} wurde inzwischen von jemand anderem erstellt',
};

export default de;
