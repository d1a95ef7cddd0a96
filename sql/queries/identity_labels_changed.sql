-- How many nodes a round of label spreading relabelled (zero: the components are found).
select count(*)
from identity_labels as l
join identity_labels_prev as p using (node_id)
where l.label <> p.label
