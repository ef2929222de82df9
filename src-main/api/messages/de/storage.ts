/**
 * German for the core's messages first met under src-main/core/storage, qemu, backup and snapshots
 * (messages.test.ts says which area a message belongs to). Keys: the English id, word for word;
 * values: the German, with the same {n} placeholders, in whatever order German wants them.
 */
import type { Catalogue } from '../localise.js';

const de: Catalogue = {
  'Back up {0}': 'Backup von {0} erstellen',
  'Verify the backups of {0}': 'Backups von {0} prüfen',
  'Restore {0} from its backup': '{0} aus dem Backup wiederherstellen',
  'QEMU has no block node for disk {0}': 'QEMU hat keinen Blockknoten für die Platte {0}',
  'The backup of disk {0} failed: {1}': 'Das Backup der Platte {0} ist fehlgeschlagen: {1}',
  'Backup cancelled': 'Backup abgebrochen',
  '{0} has no backup folder yet: name one (vmdesk backup {1} --to DIR)':
    '{0} hat noch keinen Backup-Ordner: einen angeben (vmdesk backup {1} --to ORDNER)',
  'The backup folder {0} does not exist (is the disk mounted?)': 'Der Backup-Ordner {0} existiert nicht (ist die Platte eingehängt?)',
  '{0} holds {1} backup chains of "{2}": give the chain\'s own folder':
    '{0} enthält {1} Backup-Ketten von „{2}“: den Ordner der Kette selbst angeben',
  'No machine named "{0}": give the backup folder (--from DIR)': 'Keine Maschine namens „{0}“: den Backup-Ordner angeben (--from ORDNER)',
  'Point {0} of the backup chain has no image of disk {1}': 'Punkt {0} der Backup-Kette hat kein Abbild der Platte {1}',
  '{0} is {1} bytes, the manifest says {2}': '{0} ist {1} Bytes groß, laut Manifest {2}',
  '{0} does not match its checksum': '{0} stimmt nicht mit seiner Prüfsumme überein',
  '{0} reads from {1}, the chain wants {2}': '{0} liest aus {1}, die Kette verlangt {2}',
  '{0} is not LUKS-encrypted, as the manifest says it is': '{0} ist nicht LUKS-verschlüsselt, obwohl das Manifest das angibt',
  '{0} has qcow2 features a backup image never has': '{0} hat qcow2-Merkmale, die ein Backup-Abbild nie hat',
  'Cannot read {0}: {1}': '{0} kann nicht gelesen werden: {1}',
  '{0} is not a backup manifest': '{0} ist kein Backup-Manifest',
  '{0} is not valid JSON': '{0} ist kein gültiges JSON',
  '{0}: point {1} is out of sequence': '{0}: Punkt {1} steht nicht in der richtigen Reihenfolge',
  '{0}: the first point is not a full one': '{0}: Der erste Punkt ist kein vollständiger',
  'The backup chain of {0} has no point {1} (it has {2})': 'Die Backup-Kette von {0} hat keinen Punkt {1} (vorhanden: {2})',
  'No machine named "{0}": restore it as a new one (--as NAME)':
    'Keine Maschine namens „{0}“: als neue Maschine wiederherstellen (--as NAME)',
  'Restoring over {0} replaces its disks and snapshots with point {1}: confirm with --force':
    'Wiederherstellen über {0} ersetzt ihre Platten und Sicherungspunkte durch Punkt {1}: mit --force bestätigen',
  '{0} is {1}: stop it before restoring over it': '{0} ist {1}: die Maschine vor dem Wiederherstellen stoppen',
  '{0} holds no backup chain (no manifest)': '{0} enthält keine Backup-Kette (kein Manifest)',
  'Point {0}: {1}': 'Punkt {0}: {1}',
  'Point {0}, disk {1}: {2}': 'Punkt {0}, Platte {1}: {2}',
  'Point {0} has no image of disk {1}': 'Punkt {0} hat kein Abbild der Platte {1}',
  'Restoring {0}': '{0} wird wiederhergestellt',
  "The backup's copy of {0} is damaged": 'Die Kopie von {0} im Backup ist beschädigt',
  Cancelled: 'Abgebrochen',
  Restored: 'Wiederhergestellt',
  'Cannot merge point {0} of disk {1}: {2}': 'Punkt {0} der Platte {1} kann nicht zusammengeführt werden: {2}',
  'the points before it were merged into it ({0})': 'die Punkte davor wurden in diesen Punkt zusammengeführt ({0})',
  '{0} {1} merged into it ({2})': '{0} {1} in diesen Punkt zusammengeführt ({2})',
  'Backing up a stopped machine needs qemu-storage-daemon: run `sudo apt-get install qemu-system-common`':
    'Das Backup einer gestoppten Maschine braucht qemu-storage-daemon: `sudo apt-get install qemu-system-common` ausführen',
  'qemu-storage-daemon did not start: {0}': 'qemu-storage-daemon ist nicht gestartet: {0}',
  '{0} has no disk to back up': '{0} hat keine Platte für ein Backup',
  'Cannot back up {0}: its disk {1} is {2}, and backups track changes in writable qcow2 disks':
    'Kein Backup von {0} möglich: Die Platte {1} ist {2}, und Backups verfolgen Änderungen in beschreibbaren qcow2-Platten',
  'Cannot write in {0}: {1}': 'In {0} kann nicht geschrieben werden: {1}',
  'Merging the points the retention rule drops': 'Die Punkte, die die Aufbewahrungsregel verwirft, werden zusammengeführt',
  'Backed up': 'Backup erstellt',
  'Full backup': 'Vollständiges Backup',
  'Incremental backup': 'Inkrementelles Backup',
  'Checking the new point': 'Der neue Punkt wird geprüft',
  'Checking point {0}': 'Punkt {0} wird geprüft',
  'point {0}: its machine configuration is missing': 'Punkt {0}: Seine Maschinenkonfiguration fehlt',
  'point {0}: its copy of {1} is {2}': 'Punkt {0}: Seine Kopie von {1} ist {2}',
  'The chain is intact': 'Die Kette ist intakt',
  '{0} problems': '{0} Probleme',
  'qemu-img is not installed: run `sudo apt-get install qemu-utils`':
    'qemu-img ist nicht installiert: `sudo apt-get install qemu-utils` ausführen',
  'qemu-img took longer than {0} s on it': 'qemu-img brauchte für das Abbild länger als {0} s',
  'qemu-img exceeded its memory or CPU limit reading it ({0})':
    'qemu-img hat beim Lesen des Abbilds seine Speicher- oder CPU-Grenze überschritten ({0})',
  "Cannot {0}: no space left on the target's disk ({1})": 'Nicht möglich ({0}): Auf der Platte des Ziels ist kein Platz mehr ({1})',
  'Cannot {0}: {1}': 'Nicht möglich ({0}): {1}',
  'Cannot {0} {1}: {2}': 'Nicht möglich ({0} {1}): {2}',
  'Disk image not found: {0}': 'Plattenabbild nicht gefunden: {0}',
  '{0} is a directory, not a disk image': '{0} ist ein Ordner, kein Plattenabbild',
  'A disk size must be a positive whole number of bytes, not {0}':
    'Eine Plattengröße muss eine positive ganze Zahl von Bytes sein, nicht {0}',
  'Only qcow2 images can have a backing file': 'Nur qcow2-Abbilder können eine Basisdatei haben',
  'A backing file needs its format: QEMU must never guess it': 'Eine Basisdatei braucht ihr Format: QEMU darf es nie erraten',
  '{0} is corrupt{1}{2}': '{0} ist beschädigt{1}{2}',
  'Conversion to {0} was cancelled': 'Die Umwandlung in {0} wurde abgebrochen',
  'Shrinking {0} from {1} to {2} bytes would lose data': 'Beim Verkleinern von {0} von {1} auf {2} Bytes gingen Daten verloren',
  '"{0}" is not a size: use a number with an optional unit, e.g. 512M, 10G or 1.5GiB':
    '„{0}“ ist keine Größe: eine Zahl mit optionaler Einheit angeben, z. B. 512M, 10G oder 1.5GiB',
  'A size must be more than zero bytes, not "{0}"': 'Eine Größe muss mehr als null Bytes betragen, nicht „{0}“',
  '"{0}" is too large': '„{0}“ ist zu groß',
  'QEMU did not answer {0} within {1} ms': 'QEMU hat {0} nicht innerhalb von {1} ms beantwortet',
  'QEMU sent no QMP greeting within {0} ms': 'QEMU hat innerhalb von {0} ms keine QMP-Begrüßung gesendet',
  'QEMU closed the monitor connection during the QMP handshake': 'QEMU hat die Monitorverbindung während des QMP-Handshakes geschlossen',
  'Cannot connect to the QEMU monitor at {0}: {1}': 'Keine Verbindung zum QEMU-Monitor unter {0}: {1}',
  'Cannot snapshot {0}: its disk {1} is {2}, and snapshots need qcow2 disks. Convert the disk to qcow2 or make it read-only.':
    'Kein Sicherungspunkt von {0} möglich: Die Platte {1} ist {2}, und Sicherungspunkte brauchen qcow2-Platten. Die Platte in qcow2 umwandeln oder schreibgeschützt machen.',
  'Cannot snapshot {0}: its disk {1} lives outside the machine folder ({2}). Move or copy it into the machine first.':
    'Kein Sicherungspunkt von {0} möglich: Die Platte {1} liegt außerhalb des Maschinenordners ({2}). Sie zuerst in die Maschine verschieben oder kopieren.',
  'Stop {0} to delete snapshot "{1}": the running machine\'s disks rest on it (snapshots on other branches can be deleted while it runs)':
    '{0} stoppen, um Sicherungspunkt „{1}“ zu löschen: Die Platten der laufenden Maschine bauen auf ihm auf (Sicherungspunkte auf anderen Zweigen lassen sich löschen, während sie läuft)',
  '{0} has encrypted disks: its passphrase is needed to delete snapshot "{1}"':
    '{0} hat verschlüsselte Platten: Zum Löschen von Sicherungspunkt „{1}“ wird die Passphrase der Maschine gebraucht',
  'Merging "{0}" into its children': '„{0}“ wird mit den folgenden Abbildern zusammengeführt',
  'Cannot delete snapshot "{0}" of {1}: the linked clone{2} {3} rest{4} on it. Delete {5} first, or make {6} independent with a full clone.':
    'Sicherungspunkt „{0}“ von {1} kann nicht gelöscht werden: Die Platten des verknüpften Klon{2}{4} {3} bauen auf ihm auf. Zuerst {5} löschen oder {6} mit einem vollständigen Klon unabhängig machen.',
  'The passphrase is needed to encrypt the overlay {0}': 'Zum Verschlüsseln der Überlagerung {0} wird die Passphrase gebraucht',
  'The running machine has no block node for {0}': 'Die laufende Maschine hat keinen Blockknoten für {0}',
  'QEMU lost the job {0}': 'QEMU hat den Job {0} verloren',
  'QEMU could not {0}: {1}': 'QEMU ist gescheitert ({0}): {1}',
  'QEMU did not end an interrupted state save (still {0})':
    'QEMU hat ein abgebrochenes Sichern des Zustands nicht beendet (noch im Status {0})',
  'Saving the machine state was cancelled': 'Das Sichern des Maschinenzustands wurde abgebrochen',
  'QEMU could not save the machine state: {0}': 'QEMU konnte den Maschinenzustand nicht sichern: {0}',
  'The machine state was not written to {0}': 'Der Maschinenzustand wurde nicht nach {0} geschrieben',
  'No space left on device: the machine state did not fit on the filesystem of {0}':
    'Kein Platz mehr auf dem Gerät: Der Maschinenzustand passte nicht auf das Dateisystem von {0}',
  '{0} was started meanwhile: stop it and try again': '{0} wurde inzwischen gestartet: die Maschine stoppen und es erneut versuchen',
  'Creating overlays': 'Überlagerungen werden erstellt',
  'Stopping the QEMU of {0}': 'QEMU von {0} wird beendet',
  'Starting {0} from the snapshot': '{0} wird vom Sicherungspunkt aus gestartet',
  '{0} already has a saved state': '{0} hat bereits einen gesicherten Zustand',
  'Saving memory': 'Speicher wird gesichert',
  'Stopping QEMU': 'QEMU wird beendet',
  '{0} is running': '{0} läuft',
  '{0} has no saved state': '{0} hat keinen gesicherten Zustand',
  'The saved state of {0} is missing ({1}): discard it with `vmdesk discard-state {2}`':
    'Der gesicherte Zustand von {0} fehlt ({1}): ihn verwerfen mit `vmdesk discard-state {2}`',
  'The settings of {0} changed since its state was saved, so it cannot resume: undo the change, or discard the saved state (`vmdesk discard-state {1}`) to boot afresh':
    'Die Einstellungen von {0} haben sich seit dem Sichern des Zustands geändert, daher kann die Maschine nicht fortgesetzt werden: die Änderung rückgängig machen oder den gesicherten Zustand verwerfen (`vmdesk discard-state {1}`), um neu zu starten',
  '{0}\n{1} could not resume from its saved state; to boot it afresh: vmdesk discard-state {2}':
    '{0}\n{1} konnte nicht aus dem gesicherten Zustand fortgesetzt werden; für einen Neustart: vmdesk discard-state {2}',
  'Take snapshot "{0}"': 'Sicherungspunkt „{0}“ erstellen',
  'Restore snapshot "{0}"': 'Sicherungspunkt „{0}“ wiederherstellen',
  '{0} was running: it was powered off, restored and started again':
    '{0} lief: Die Maschine wurde ausgeschaltet, wiederhergestellt und wieder gestartet',
  'Delete snapshot "{0}"': 'Sicherungspunkt „{0}“ löschen',
  'Save state of {0}': 'Zustand von {0} sichern',
  'Cannot save the state of {0}: it is {1}': 'Der Zustand von {0} kann nicht gesichert werden: Die Maschine ist {1}',
  'No snapshot named "{0}"': 'Kein Sicherungspunkt namens „{0}“',
  '"{0}" holds the disks only: the memory of a machine with encrypted disks is not saved, it would be written unencrypted':
    '„{0}“ enthält nur die Platten: Der Speicher einer Maschine mit verschlüsselten Platten wird nicht gesichert, er würde unverschlüsselt geschrieben',
  '{0} already has a snapshot named "{1}"': '{0} hat bereits einen Sicherungspunkt namens „{1}“',
  '{0} has a saved state: start it (or discard the state) before taking a snapshot':
    '{0} hat einen gesicherten Zustand: die Maschine vor dem Erstellen eines Sicherungspunkts starten (oder den Zustand verwerfen)',
  'Cannot snapshot {0} while it is {1}': 'Kein Sicherungspunkt von {0} möglich, solange die Maschine {1} ist',
  'The running machine has no block device for {0}': 'Die laufende Maschine hat kein Blockgerät für {0}',
  'Switching disks to new overlays': 'Platten werden auf neue Überlagerungen umgestellt',
  'The serial console could not be kept with "{0}": restored, it shows only what the guest prints next':
    'Die serielle Konsole konnte nicht mit „{0}“ gesichert werden: Nach dem Wiederherstellen zeigt sie nur, was der Gast danach ausgibt',
  'The memory could not be saved ({0}): "{1}" holds the disks only':
    'Der Speicher konnte nicht gesichert werden ({0}): „{1}“ enthält nur die Platten',
  '{0} has no disk "{1}"{2}': '{0} hat keine Platte „{1}“{2}',
  'Give either a size for a new disk or an existing image file':
    'Entweder eine Größe für eine neue Platte oder eine vorhandene Abbilddatei angeben',
  '{0} already has {1} disks, the most a machine can have': '{0} hat bereits {1} Platten, die Höchstzahl für eine Maschine',
  'The SATA controller has no free port (6 ports, the CD-ROM takes one)':
    'Der SATA-Controller hat keinen freien Port (6 Ports, das CD-ROM belegt einen)',
  '{0} is already used by {1}: two machines writing one image would corrupt it':
    '{0} wird bereits von {1} benutzt: Zwei Maschinen, die in ein Abbild schreiben, würden es beschädigen',
  '{0} is running: shut it down before removing a disk': '{0} läuft: die Maschine vor dem Entfernen einer Platte herunterfahren',
  '{0} is also used by {1}: remove the disk without deleting its file':
    '{0} wird auch von {1} benutzt: die Platte entfernen, ohne ihre Datei zu löschen',
  "{0} is not in {1}'s folder: VMDesk deletes only images it keeps; remove the disk without --delete-file":
    '{0} liegt nicht im Ordner von {1}: VMDesk löscht nur Abbilder, die es selbst verwaltet; die Platte ohne --delete-file entfernen',
  'A disk size must be a positive number of bytes': 'Eine Plattengröße muss eine positive Zahl von Bytes sein',
  '{0} is read-only': '{0} ist schreibgeschützt',
  'The running machine has no drive for {0} (added after it started?): resize it once it is shut down':
    'Die laufende Maschine hat kein Laufwerk für {0} (nach dem Start hinzugefügt?): die Größe nach dem Herunterfahren ändern',
  'Shrinking a disk of a running machine is not possible: shut {0} down first (and use --force-shrink)':
    'Eine Platte einer laufenden Maschine lässt sich nicht verkleinern: {0} zuerst herunterfahren (und --force-shrink verwenden)',
  'Shrinking {0} from {1} to {2} bytes cuts off whatever the guest keeps at its end: shrink its file systems and partitions inside the guest first, then use --force-shrink':
    'Das Verkleinern von {0} von {1} auf {2} Bytes schneidet ab, was der Gast am Ende der Platte ablegt: zuerst die Dateisysteme und Partitionen im Gast verkleinern, dann --force-shrink verwenden',
  '{0} was shrunk: data beyond {1} bytes is gone': '{0} wurde verkleinert: Daten jenseits von {1} Bytes sind verloren',
  '{0} was started without a CD drive: it gets one at its next start':
    '{0} wurde ohne CD-Laufwerk gestartet: Es wird beim nächsten Start hinzugefügt',
  'The running machine has no CD drive {0}': 'Die laufende Maschine hat kein CD-Laufwerk {0}',
  'Cannot encrypt {0}: {1}': '{0} kann nicht verschlüsselt werden: {1}',
  'Encrypt {0}': '{0} verschlüsseln',
  'Encrypting {0}': '{0} wird verschlüsselt',
  Encrypted: 'Verschlüsselt',
  'Cannot {0} {1}: its disks are encrypted, and {2}': 'Nicht möglich ({0} {1}): Die Platten sind verschlüsselt, und {2}',
  '{0} has encrypted disks: its passphrase is needed to {1}':
    '{0} hat verschlüsselte Platten: Die Passphrase der Maschine wird gebraucht ({1})',
  'Wrong passphrase for {0}: it unlocks none of its encrypted disks':
    'Falsche Passphrase für {0}: Sie entsperrt keine der verschlüsselten Platten',
  "Cannot open {0}'s encrypted disk {1}: {2}": 'Die verschlüsselte Platte {1} von {0} kann nicht geöffnet werden: {2}',
  'Wrong passphrase: it does not unlock {0}': 'Falsche Passphrase: Sie entsperrt das Abbild nicht ({0})',
  // A reason code (a value for programs), not words: it stays as it is.
  'Cannot {0} {1}: {2} {3} {4} its disk images. Delete {5} first, or make {6} independent with a full clone.':
    'Nicht möglich ({0} {1}): Verknüpfte Klone bauen auf ihren Plattenabbildern auf ({2} {3} {4}). Zuerst {5} löschen oder {6} mit einem vollständigen Klon unabhängig machen.',
  'The passphrase is too long': 'Die Passphrase ist zu lang',
  'The snapshot list {0} is unreadable: {1}': 'Die Liste der Sicherungspunkte {0} ist nicht lesbar: {1}',
  '{0} has no snapshot "{1}"{2}': '{0} hat keinen Sicherungspunkt „{1}“{2}',
};

export default de;
