/**
 * German for the core's messages first met under src-main/core/migration, hosts and network, src-main/server, src-main/api and src-main/cli
 * (messages.test.ts says which area a message belongs to). Keys: the English id, word for word;
 * values: the German, with the same {n} placeholders, in whatever order German wants them.
 */
import type { Catalogue } from '../localise.js';

const de: Catalogue = {
  'Unknown operation: {0}': 'Unbekannte Operation: {0}',
  'Invalid arguments for {0}: {1}': 'Ungültige Argumente für {0}: {1}',
  "The minimum memory ({0} MiB) is above the machine's memory ({1} MiB)":
    'Der Mindestspeicher ({0} MiB) liegt über dem Speicher der Maschine ({1} MiB)',
  'A CPU cap of {0} % is more than {1} vCPU{2} can use (at most {3} %)':
    'Eine CPU-Grenze von {0} % ist mehr, als {1} vCPU{2} nutzen können (höchstens {3} %)',
  'vCPU {0} is pinned but the machine has {1} vCPU{2}': 'vCPU {0} ist gebunden, aber die Maschine hat {1} vCPU{2}',
  'Invalid {0}:\n{1}': 'Ungültige Angaben ({0}):\n{1}',
  '--attach {0}: {1}': '--attach {0}: {1}',
  '--pin: {0}': '--pin: {0}',
  'No host named {0} (add it first: vmdesk hosts add)': 'Kein Host namens {0} (zuerst hinzufügen: vmdesk hosts add)',
  'Cannot connect to {0}': 'Keine Verbindung zu {0} möglich',
  'A host named {0} already exists': 'Ein Host namens {0} existiert bereits',
  '{0} presents {1}, not the key confirmed ({2}): refused.': '{0} zeigt {1}, nicht den bestätigten Schlüssel ({2}): abgelehnt.',
  '{0} is not connected{1}': '{0} ist nicht verbunden{1}',
  '{0} is not connected': '{0} ist nicht verbunden',
  '{0} is not valid JSON: fix or remove it': '{0} ist kein gültiges JSON: die Datei korrigieren oder entfernen',
  '{0} is not a VMDesk hosts file: fix or remove it': '{0} ist keine Hosts-Datei von VMDesk: die Datei korrigieren oder entfernen',
  'No host named {0} (vmdesk hosts list shows them)': 'Kein Host namens {0} (vmdesk hosts list zeigt die vorhandenen)',
  'No host named {0}': 'Kein Host namens {0}',
  'ssh cannot read its configuration for {0}: {1}': 'ssh kann seine Konfiguration für {0} nicht lesen: {1}',
  'ssh-keygen could not read the host key of {0}: {1}': 'ssh-keygen konnte den Hostschlüssel von {0} nicht lesen: {1}',
  'ssh names no known_hosts file': 'ssh nennt keine known_hosts-Datei',
  '{0} runs VMDesk {1}, which speaks API {2}; this VMDesk needs API {3} or newer: upgrade VMDesk on {4}.':
    'Auf {0} läuft VMDesk {1} mit API {2}; dieses VMDesk braucht API {3} oder neuer: VMDesk auf {4} aktualisieren.',
  '{0} runs VMDesk {1}, which no longer serves API {2}: upgrade VMDesk on this computer.':
    'Auf {0} läuft VMDesk {1}, das API {2} nicht mehr bedient: VMDesk auf diesem Computer aktualisieren.',
  'The VMDesk library on {0} ({1}) is not writable{2}. Fix its permissions there, or choose another with the remote library setting.':
    'Die VMDesk-Bibliothek auf {0} ({1}) ist nicht beschreibbar{2}. Dort ihre Berechtigungen korrigieren oder mit der Einstellung „Entfernte Bibliothek“ eine andere wählen.',
  'VMDesk is not installed on {0}, or not where it was looked for ({1}). Install VMDesk there, or give the command that runs it (remote command).':
    'VMDesk ist auf {0} nicht installiert oder nicht dort, wo danach gesucht wurde ({1}). VMDesk dort installieren oder den Befehl angeben, der es startet („Entfernter Befehl“).',
  'The VMDesk on {0} is too old to be driven from another computer: upgrade VMDesk on {1}.':
    'Das VMDesk auf {0} ist zu alt, um von einem anderen Computer aus gesteuert zu werden: VMDesk auf {1} aktualisieren.',
  'The VMDesk on {0} stopped before it answered (exit {1}): {2}': 'Das VMDesk auf {0} wurde beendet, bevor es antwortete (exit {1}): {2}',
  '{0} did not answer within {1} s: {2}': '{0} hat nicht innerhalb von {1} s geantwortet: {2}',
  '{0} sent a message over {1} bytes: the link is closed':
    '{0} hat eine Nachricht über {1} Bytes gesendet: Die Verbindung wird geschlossen',
  'ssh is not installed on this computer (install openssh-client)':
    'ssh ist auf diesem Computer nicht installiert (openssh-client installieren)',
  'Cannot run ssh: {0}': 'ssh kann nicht ausgeführt werden: {0}',
  'The connection to {0} was lost{1}': 'Die Verbindung zu {0} ist abgebrochen{1}',
  '{0} answered {1} with a malformed error': '{0} hat {1} mit einer ungültigen Fehlermeldung beantwortet',
  '{0} during {1}. What {2} was doing for it finishes or is cancelled there; nothing is left half-made.':
    '{0} während {1}. Was {2} dafür getan hat, wird dort beendet oder abgebrochen; nichts bleibt halb fertig.',
  'Cannot forward a stream through the SSH connection to {0}: {1}':
    'Ein Datenstrom kann nicht über die SSH-Verbindung zu {0} weitergeleitet werden: {1}',
  'Disconnected from {0}': 'Verbindung zu {0} getrennt',
  '{0} is not installed on this computer (install openssh-client)':
    '{0} ist auf diesem Computer nicht installiert (openssh-client installieren)',
  'The host key of {0} has changed: VMDesk refuses to connect, as ssh does.\n{1}':
    'Der Hostschlüssel von {0} hat sich geändert: VMDesk verweigert wie ssh die Verbindung.\n{1}',
  'The host key of {0} is not known: confirm its fingerprint first.\n{1}':
    'Der Hostschlüssel von {0} ist unbekannt: zuerst seinen Fingerabdruck bestätigen.\n{1}',
  '{0} refused the login ({1}). VMDesk logs in with your SSH keys and never asks for or stores a password: add your key to the agent (ssh-add) or name it with --identity FILE.':
    '{0} hat die Anmeldung abgelehnt ({1}). VMDesk meldet sich mit Ihren SSH-Schlüsseln an und fragt nie nach einem Passwort, noch speichert es eines: den Schlüssel dem Agenten hinzufügen (ssh-add) oder ihn mit --identity DATEI angeben.',
  'Unknown host {0}: {1}': 'Unbekannter Host {0}: {1}',
  'Cannot reach {0} ({1}): {2}': '{0} ({1}) ist nicht erreichbar: {2}',
  'Not a file of an incoming migration': 'Keine Datei einer eingehenden Migration',
  'No such incoming migration (it was finished or aborted)':
    'Diese eingehende Migration gibt es nicht (sie wurde abgeschlossen oder abgebrochen)',
  '{0}: {1} of {2} bytes arrived': '{0}: {1} von {2} Bytes angekommen',
  'Sending {0} to the destination failed: {1}': 'Das Senden von {0} an das Ziel ist fehlgeschlagen: {1}',
  '{0} has encrypted disks: its passphrase is needed to receive it live':
    'Die Platten von {0} sind verschlüsselt: Für den Live-Empfang wird ihre Passphrase gebraucht',
  'A passphrase is only taken with a live migration of a machine with encrypted disks':
    'Eine Passphrase wird nur bei der Live-Migration einer Maschine mit verschlüsselten Platten angenommen',
  'A RAM of {0} KiB is not the {1} MiB of {2}': 'Ein RAM von {0} KiB entspricht nicht den {1} MiB von {2}',
  'This host already has the machine {0} (uuid {1})': 'Dieser Host hat die Maschine {0} bereits (UUID {1})',
  'This host already has a machine named {0}': 'Dieser Host hat bereits eine Maschine namens {0}',
  '{0} needs {1} MiB of memory; this host has {2} MiB free': '{0} braucht {1} MiB Speicher; dieser Host hat {2} MiB frei',
  'No size given for {0}': 'Keine Größe für {0} angegeben',
  '{0} is not inside the machine folder': '{0} liegt nicht im Ordner der Maschine',
  'A folder {0} is already there: move it away first': 'Ein Ordner {0} ist bereits vorhanden: ihn zuerst verschieben',
  'QEMU already runs: files come before start': 'QEMU läuft bereits: Dateien kommen vor dem Start',
  'Not a file of the machine folder': 'Keine Datei aus dem Ordner der Maschine',
  'An offline migration starts no QEMU: commit it once its files are sent':
    'Eine Offline-Migration startet kein QEMU: sie abschließen, sobald ihre Dateien gesendet sind',
  'The incoming migration is already started': 'Die eingehende Migration ist bereits gestartet',
  'The snapshot image {0} did not arrive': 'Das Abbild des Sicherungspunkts {0} ist nicht angekommen',
  'The migration stream did not complete here: {0}': 'Der Migrationsdatenstrom wurde hier nicht abgeschlossen: {0}',
  'The machine.json that arrived is not the machine announced': 'Die angekommene machine.json ist nicht die angekündigte Maschine',
  '{0} is {1}: an offline migration moves a stopped machine': '{0} ist {1}: Eine Offline-Migration verschiebt eine gestoppte Maschine',
  '{0} is {1}: live migration moves a running machine': '{0} ist {1}: Eine Live-Migration verschiebt eine laufende Maschine',
  'A CD-ROM image is inserted (a host file the destination does not have): eject it first':
    'Ein CD-ROM-Abbild ist eingelegt (eine Datei des Hosts, die das Ziel nicht hat): es zuerst auswerfen',
  '{0} is a file outside the machine folder ({1})': '{0} ist eine Datei außerhalb des Ordners der Maschine ({1})',
  '{0} is a linked clone: it reads from {1}, which stays on this host — make a full clone of it and migrate that':
    '{0} ist ein verknüpfter Klon: Er liest aus {1}, das auf diesem Host bleibt — einen vollständigen Klon erstellen und diesen migrieren',
  'The kernel boot file {0} is outside the machine folder': 'Die Kernel-Boot-Datei {0} liegt außerhalb des Ordners der Maschine',
  "{0} is on a {1} network, which is this host's: attach it to NAT or none first":
    '{0} hängt an einem Netzwerk vom Typ {1}, das zu diesem Host gehört: es zuerst an NAT oder none anschließen',
  'QEMU is not installed on {0}': 'QEMU ist auf {0} nicht installiert',
  'On {0}: {1}': 'Auf {0}: {1}',
  '{0} needs {1} MiB of memory; {2} has {3} MiB{4}': '{0} braucht {1} MiB Speicher; {2} hat {3} MiB{4}',
  'A vCPU is pinned to host CPU {0}, which {1} lacks (it has {2}): change the pinning first':
    'Eine vCPU ist an die Host-CPU {0} gebunden, die {1} nicht hat (nur {2} CPUs): zuerst die Bindung ändern',
  '{0} cannot apply a CPU cap or shares ({1}): remove them first':
    '{0} kann keine CPU-Grenze oder -Anteile anwenden ({1}): sie zuerst entfernen',
  '{0} already has this machine (same uuid)': '{0} hat diese Maschine bereits (gleiche UUID)',
  '{0} already has a machine named {1}': '{0} hat bereits eine Maschine namens {1}',
  '{0} cannot migrate to {1}:\n{2}': '{0} kann nicht nach {1} migrieren:\n{2}',
  'Checking {0}': '{0} wird geprüft',
  'Migrating {0} to {1}': '{0} wird nach {1} migriert',
  '{0} is not open in QEMU: cannot mirror it': '{0} ist in QEMU nicht geöffnet: kann nicht gespiegelt werden',
  '{0} is on a backing file outside the machine folder': '{0} baut auf einer Basisdatei außerhalb des Ordners der Maschine auf',
  'Preparing {0} on {1}': '{0} wird auf {1} vorbereitet',
  'Migration cancelled': 'Migration abgebrochen',
  'A disk mirror stopped before it was ready': 'Ein Plattenspiegel wurde beendet, bevor er bereit war',
  'Mirroring disks: {0} of {1} MiB': 'Platten werden gespiegelt: {0} von {1} MiB',
  'Round {0}: {1} MiB sent, {2} MiB left, {3} pages/s dirtied — not converging: raise the max downtime, turn on auto-converge or raise the bandwidth':
    'Runde {0}: {1} MiB gesendet, {2} MiB übrig, {3} Seiten/s verändert — konvergiert nicht: die max. Ausfallzeit erhöhen, Auto-Konvergenz einschalten oder die Bandbreite erhöhen',
  'Round {0}: {1} MiB sent, {2} MiB left, {3} pages/s dirtied': 'Runde {0}: {1} MiB gesendet, {2} MiB übrig, {3} Seiten/s verändert',
  'The migration {0}: {1}': 'Die Migration endete mit dem Status {0}: {1}',
  'Switching over': 'Wird umgeschaltet',
  'The disk mirrors did not complete at switchover': 'Die Plattenspiegel wurden beim Umschalten nicht abgeschlossen',
  'A disk mirror failed at switchover ({0})': 'Ein Plattenspiegel ist beim Umschalten fehlgeschlagen ({0})',
  'The migration {0} at switchover: {1}': 'Die Migration endete beim Umschalten mit dem Status {0}: {1}',
  '{0} runs on {1}, but its stopped copy here could not be deleted: {2}':
    '{0} läuft auf {1}, aber die gestoppte Kopie hier konnte nicht gelöscht werden: {2}',
  '{0} runs on {1}': '{0} läuft auf {1}',
  'Copying {0}: {1} of {2} MiB': '{0} wird kopiert: {1} von {2} MiB',
  '{0} is on {1}': '{0} liegt auf {1}',
  'The machine was sent whole to {0}, which did not confirm it took it over: the copy here stays paused. If it runs on {1}, power this copy off; if not, resume it here.':
    'Die Maschine wurde vollständig an {0} gesendet, der die Übernahme nicht bestätigt hat: Die Kopie hier bleibt pausiert. Läuft sie auf {1}, diese Kopie ausschalten; wenn nicht, sie hier fortsetzen.',
  "{0} is not installed: run `sudo apt-get install qemu-system-common` (or your system's QEMU package)":
    '{0} ist nicht installiert: `sudo apt-get install qemu-system-common` ausführen (oder das QEMU-Paket Ihres Systems installieren)',
  '{0} cannot create tap devices for this user: run `sudo chmod u+s {1}`':
    '{0} kann für diesen Benutzer keine Tap-Geräte anlegen: `sudo chmod u+s {1}` ausführen',
  "The bridge helper's ACL {0} does not exist: run `sudo mkdir -p {1} && {2}`":
    'Die ACL {0} des Bridge-Helfers existiert nicht: `sudo mkdir -p {1} && {2}` ausführen',
  'The bridge helper cannot read its ACL: {0}': 'Der Bridge-Helfer kann seine ACL nicht lesen: {0}',
  'There is no bridge on this host: make one, e.g. `sudo ip link add br0 type bridge && sudo ip link set br0 up`':
    'Auf diesem Host gibt es keine Bridge: eine anlegen, z. B. `sudo ip link add br0 type bridge && sudo ip link set br0 up`',
  "The bridge helper's ACL does not allow {0}: run `{1}`": 'Die ACL des Bridge-Helfers erlaubt {0} nicht: `{1}` ausführen',
  '{0} is bridged to {1}, but {2}': '{0} ist mit der Bridge {1} verbunden, aber {2}',
  'Host port {0} is already in use on {1} ({2})': 'Host-Port {0} ist auf {1} bereits belegt ({2})',
  'Host port {0} needs privileges to be bound on {1} ({2}): use a port above 1023':
    'Host-Port {0} auf {1} braucht Sonderrechte ({2}): einen Port über 1023 verwenden',
  '{0} is not an address of this host ({1}): use 127.0.0.1 or 0.0.0.0':
    '{0} ist keine Adresse dieses Hosts ({1}): 127.0.0.1 oder 0.0.0.0 verwenden',
  'Cannot bind {0} ({1}): {2}': '{0} kann nicht gebunden werden ({1}): {2}',
  'The internal network switch is not built: run `npm run build`':
    'Der Switch für interne Netzwerke ist nicht gebaut: `npm run build` ausführen',
  'An internal network needs a name': 'Ein internes Netzwerk braucht einen Namen',
  'The runtime directory path is too long for unix sockets ({0}); set VMDESK_RUNTIME_DIR to a shorter directory':
    'Der Pfad des Laufzeitordners ist zu lang für Unix-Sockets ({0}); VMDESK_RUNTIME_DIR auf einen kürzeren Ordner setzen',
  'The switch of internal network "{0}" did not start; see {1}{2}':
    'Der Switch des internen Netzwerks „{0}“ ist nicht gestartet; siehe {1}{2}',
  'At most {0} port-forwarding rules per adapter': 'Höchstens {0} Weiterleitungsregeln je Adapter',
  '{0} already has a rule named "{1}"': '{0} hat bereits eine Regel namens „{1}“',
  'Rule "{0}" of {1} already forwards {2} host port {3} ({4})': 'Die Regel „{0}“ von {1} leitet bereits den {2}-Host-Port {3} weiter ({4})',
  '{0}: {1} applies at the next start of {2}': '{0}: {1} wirkt erst beim nächsten Start von {2}',
  '{0} has no {1}': '{0} hat keinen {1}',
  'The MAC address {0} is already used by {1}': 'Die MAC-Adresse {0} wird bereits von {1} verwendet',
  '{0} of {1} is {2}, not NAT: port forwards need NAT': '{0} von {1} hat die Anbindung {2}, nicht NAT: Portweiterleitungen brauchen NAT',
  '{0} is not on NAT until the next start: the rule applies then': '{0} hängt erst ab dem nächsten Start an NAT: Die Regel gilt dann',
  'QEMU could not add the forward of host port {0}: {1}': 'QEMU konnte die Weiterleitung von Host-Port {0} nicht hinzufügen: {1}',
  '{0} of {1} has no rule named "{2}"': '{0} von {1} hat keine Regel namens „{2}“',
  'The rule was not active in the running {0}; it is removed from its settings':
    'Die Regel war in der laufenden Maschine {0} nicht aktiv; sie wird aus ihren Einstellungen entfernt',
  'QEMU could not remove the forward of host port {0}: {1}': 'QEMU konnte die Weiterleitung von Host-Port {0} nicht entfernen: {1}',
  'The display closed (the machine stopped)': 'Die Anzeige wurde geschlossen (die Maschine ist gestoppt)',
  'The console closed (the machine stopped)': 'Die Konsole wurde geschlossen (die Maschine ist gestoppt)',
  'The connection to {0} was lost; the machine runs on there. Reconnecting…':
    'Die Verbindung zu {0} ist abgebrochen; die Maschine läuft dort weiter. Verbindung wird neu aufgebaut …',
  'The {0} of this machine is not available ({1})': 'Die {0} dieser Maschine ist nicht verfügbar ({1})',
  'the first load has {0} bytes of JS, over its budget of {1}': 'der erste Ladevorgang hat {0} Bytes JS, über seinem Budget von {1}',
  'the first load has {0} bytes of CSS, over its budget of {1}': 'der erste Ladevorgang hat {0} Bytes CSS, über seinem Budget von {1}',
  '{0} holds {1}: Element Plus is imported whole': '{0} enthält {1}: Element Plus wird vollständig importiert',
  '--port must be a port number from 1 to 65535 (or 0 for any free port), not "{0}"':
    '--port muss eine Portnummer von 1 bis 65535 sein (oder 0 für einen beliebigen freien Port), nicht „{0}“',
  '--host must be an IP address or a host name, not "{0}"': '--host muss eine IP-Adresse oder ein Hostname sein, nicht „{0}“',
  'Port {0} on {1} is already in use': 'Port {0} auf {1} ist bereits belegt',
  'Cannot listen on {0}: no such address on this host': 'Auf {0} kann nicht gelauscht werden: Diese Adresse gibt es auf diesem Host nicht',
  'Not allowed to listen on port {0} (ports below 1024 need privileges)':
    'Lauschen auf Port {0} nicht erlaubt (Ports unter 1024 brauchen Sonderrechte)',
  'Streams of a remote host are forwarded through its SSH connection (streamSocket)':
    'Datenströme eines entfernten Hosts werden über seine SSH-Verbindung weitergeleitet (streamSocket)',
};

export default de;
